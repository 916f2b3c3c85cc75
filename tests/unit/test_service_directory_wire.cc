#include "core/overlay/service_directory_wire.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace pinhole::overlay {
namespace {

std::span<const std::uint8_t> bytes(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

PublishedService service(std::string_view name, std::uint16_t port) {
    PublishedService published;
    EXPECT_TRUE(published.name.assign(name).ok());
    published.port = port;
    return published;
}

ServiceList list(std::initializer_list<PublishedService> services) {
    ServiceList result;
    for (const PublishedService& published : services) EXPECT_TRUE(result.push_back(published).ok());
    return result;
}

std::string encode_request(std::uint32_t id) {
    std::array<char, 64> out{};
    const auto length = encode_directory_request(id, out);
    EXPECT_TRUE(length.ok());
    return length.ok() ? std::string(out.data(), length.value()) : std::string();
}

std::string encode_reply(std::uint32_t id, const ServiceList& services) {
    std::array<char, service_directory_max_datagram_bytes> out{};
    const auto length = encode_directory_reply(id, services, out);
    EXPECT_TRUE(length.ok());
    return length.ok() ? std::string(out.data(), length.value()) : std::string();
}

bool request_malformed(std::string_view datagram) {
    const auto parsed = parse_directory_request(bytes(datagram));
    return !parsed.ok() && parsed.error() == Errc::malformed;
}

bool reply_malformed(std::string_view datagram) {
    const auto parsed = parse_directory_reply(bytes(datagram));
    return !parsed.ok() && parsed.error() == Errc::malformed;
}

// A reply datagram with `count` distinct services s0, s1, ...
std::string reply_with(std::size_t count) {
    std::string datagram = "pinhole-services/1 1\n";
    for (std::size_t i = 0; i < count; ++i) datagram += "s" + std::to_string(i) + " 80\n";
    return datagram;
}

TEST(ServiceDirectory, RequestRoundTrips) {
    EXPECT_EQ(encode_request(0x1a2b), "pinhole-services/1 1a2b\n");
    EXPECT_EQ(encode_request(0), "pinhole-services/1 0\n");
    EXPECT_EQ(encode_request(0xffffffff), "pinhole-services/1 ffffffff\n");
    for (const std::uint32_t id : {0u, 1u, 0xfu, 0x10u, 0xdeadbeefu, 0xffffffffu}) {
        const auto parsed = parse_directory_request(bytes(encode_request(id)));
        ASSERT_TRUE(parsed.ok()) << id;
        EXPECT_EQ(parsed.value(), id);
    }
}

TEST(ServiceDirectory, RequestReadsLeadingZerosOfTheId) {
    const auto parsed = parse_directory_request(bytes("pinhole-services/1 000000ab\n"));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value(), 0xabu);
}

TEST(ServiceDirectory, RefusesMalformedRequests) {
    using namespace std::string_literals;
    for (const std::string& datagram :
         {""s, "\n"s, "pinhole-services/1\n"s, "pinhole-services/1 \n"s,
          "pinhole-services/1 1"s,  // no LF
          "pinhole-services/1  1\n"s, " pinhole-services/1 1\n"s, "pinhole-services/1 1 \n"s,
          "pinhole-services/1 1\r\n"s, "pinhole-services/1 1\n\n"s, "pinhole-services/1 1\nx"s,
          "pinhole-services/1\t1\n"s, "pinhole-services/2 1\n"s, "pinhole-services/10 1\n"s,
          "pinhole-services/ 1\n"s, "PINHOLE-SERVICES/1 1\n"s, "pinhole-service/1 1\n"s,
          "pinhole-services/1 1AB\n"s, "pinhole-services/1 123456789\n"s,
          "pinhole-services/1 0x1\n"s, "pinhole-services/1 -1\n"s, "pinhole-services/1 +1\n"s,
          "pinhole-services/1 g\n"s, "pinhole-services/1 1\0\n"s,
          "pinhole-services/1 1\nssh 22\n"s,  // a reply is not a request
          "pinhole-services/1 \0"s, std::string(2000, 'a')}) {
        EXPECT_TRUE(request_malformed(datagram)) << '"' << datagram << '"';
    }
}

TEST(ServiceDirectory, ReplyRoundTrips) {
    const ServiceList services = list({service("ssh", 22), service("web-ui", 8080),
                                       service("a", 1), service("x9", 65535)});
    const std::string datagram = encode_reply(0xc0ffee, services);
    EXPECT_EQ(datagram, "pinhole-services/1 c0ffee\nssh 22\nweb-ui 8080\na 1\nx9 65535\n");
    const auto parsed = parse_directory_reply(bytes(datagram));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().id, 0xc0ffeeu);
    ASSERT_EQ(parsed.value().services.size(), services.size());
    for (std::size_t i = 0; i < services.size(); ++i) {
        EXPECT_EQ(parsed.value().services[i], services[i]);
    }
    EXPECT_EQ(find_service_port(parsed.value().services, "web-ui"), 8080);
    EXPECT_EQ(find_service_port(parsed.value().services, "x9"), 65535);
    EXPECT_EQ(find_service_port(parsed.value().services, "web"), std::nullopt);
    EXPECT_EQ(find_service_port(parsed.value().services, ""), std::nullopt);
}

TEST(ServiceDirectory, EmptyReplyRoundTrips) {
    const std::string datagram = encode_reply(7, ServiceList{});
    EXPECT_EQ(datagram, "pinhole-services/1 7\n");
    const auto parsed = parse_directory_reply(bytes(datagram));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().id, 7u);
    EXPECT_TRUE(parsed.value().services.empty());
}

TEST(ServiceDirectory, FullListOfLongestNamesFitsOneDatagram) {
    ServiceList services;
    for (std::size_t i = 0; i < config::max_services; ++i) {
        std::string name(config::max_name_chars, 'a');
        name[name.size() - 2] = static_cast<char>('a' + i / 10);
        name[name.size() - 1] = static_cast<char>('0' + i % 10);
        ASSERT_TRUE(services.push_back(service(name, 65535)).ok());
    }
    const std::string datagram = encode_reply(0xffffffff, services);
    EXPECT_LE(datagram.size(), service_directory_max_datagram_bytes);
    const auto parsed = parse_directory_reply(bytes(datagram));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().services.size(), config::max_services);
    EXPECT_TRUE(parse_directory_reply(bytes(reply_with(config::max_services))).ok());
}

TEST(ServiceDirectory, EncodeRefusesWhatTheParserWould) {
    std::array<char, service_directory_max_datagram_bytes> out{};
    for (const ServiceList& services :
         {list({service("ssh", 0)}), list({service("", 22)}), list({service("Ssh", 22)}),
          list({service("1ssh", 22)}), list({service("ssh-", 22)}), list({service("s h", 22)}),
          list({service("ssh_x", 22)}), list({service("ssh", 22), service("ssh", 23)})}) {
        const auto length = encode_directory_reply(1, services, out);
        ASSERT_FALSE(length.ok());
        EXPECT_EQ(length.error(), Errc::invalid_argument);
    }
}

TEST(ServiceDirectory, EncodeReportsNoSpace) {
    std::array<char, 20> small{};
    const auto request = encode_directory_request(0x12345678, small);
    ASSERT_FALSE(request.ok());
    EXPECT_EQ(request.error(), Errc::no_space);
    std::array<char, 27> header_only{};  // "pinhole-services/1 12345678\n" is 28
    EXPECT_EQ(encode_directory_request(0x12345678, header_only).error(), Errc::no_space);
    std::array<char, 28> exact{};
    EXPECT_TRUE(encode_directory_request(0x12345678, exact).ok());
    std::array<char, 27> reply_room{};  // "pinhole-services/1 1\nssh 22\n" is 28
    const auto reply = encode_directory_reply(1, list({service("ssh", 22)}), reply_room);
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.error(), Errc::no_space);
    EXPECT_EQ(encode_directory_request(1, std::span<char>()).error(), Errc::no_space);
}

TEST(ServiceDirectory, RefusesMalformedReplyHeaders) {
    using namespace std::string_literals;
    for (const std::string& datagram :
         {""s, "\n"s, "pinhole-services/1\n"s, "pinhole-services/1 \n"s, "pinhole-services/1 1"s,
          "pinhole-services/1  1\nssh 22\n"s, "pinhole-services/1 1 \nssh 22\n"s,
          "pinhole-services/1 1\r\nssh 22\n"s, "pinhole-services/0 1\n"s,
          "pinhole-services/1 123456789\n"s, "pinhole-services/1 Ab\n"s,
          "pinhole-services/1 \0\n"s, "ssh 22\n"s}) {
        EXPECT_TRUE(reply_malformed(datagram)) << '"' << datagram << '"';
    }
}

TEST(ServiceDirectory, RefusesMalformedEntries) {
    using namespace std::string_literals;
    const std::string header = "pinhole-services/1 1\n";
    for (const std::string& entries :
         {"ssh 22"s,             // no LF after the last line
          "ssh 22\nx"s,          // trailing garbage
          "ssh 22\n\n"s,         // an empty line
          "\n"s, "ssh\n"s, "ssh \n"s, " 22\n"s, "ssh  22\n"s, " ssh 22\n"s, "ssh 22 \n"s,
          "ssh\t22\n"s, "ssh 22\r\n"s, "ssh 22\0\n"s, "ssh\0 22\n"s, "ssh 22 x\n"s,
          "ssh 0\n"s, "ssh 65536\n"s, "ssh 99999\n"s, "ssh 100000\n"s, "ssh 022\n"s,
          "ssh 00\n"s, "ssh +22\n"s, "ssh -22\n"s, "ssh 2 2\n"s, "ssh 0x16\n"s, "ssh 22a\n"s,
          "Ssh 22\n"s, "SSH 22\n"s, "1ssh 22\n"s, "-ssh 22\n"s, "ssh- 22\n"s, "ss_h 22\n"s,
          "s.h 22\n"s, "s:h 22\n"s, "s\xc3\xa9 22\n"s,
          std::string(config::max_name_chars + 1, 'a') + " 22\n",
          "ssh 22\nssh 23\n"s,   // a duplicate name
          "ssh 22\nweb 80\nssh 22\n"s}) {
        EXPECT_TRUE(reply_malformed(header + entries)) << '"' << entries << '"';
    }
}

TEST(ServiceDirectory, RefusesTooManyEntriesAndOversizedDatagrams) {
    EXPECT_TRUE(reply_malformed(reply_with(config::max_services + 1)));
    std::string padded = "pinhole-services/1 1\n";
    padded.resize(service_directory_max_datagram_bytes + 1, '\n');
    EXPECT_TRUE(reply_malformed(padded));
    EXPECT_TRUE(request_malformed(std::string(service_directory_max_datagram_bytes + 1, 'x')));
}

TEST(ServiceDirectory, EveryTruncationOfAReplyIsRefusedOrShorter) {
    const std::string datagram =
        encode_reply(0xabc, list({service("ssh", 22), service("web", 8080)}));
    for (std::size_t length = 0; length < datagram.size(); ++length) {
        const auto parsed = parse_directory_reply(bytes(std::string_view(datagram).substr(0, length)));
        // Only a cut just after an LF still parses, and then it has fewer entries.
        const bool at_line_end = length > 0 && datagram[length - 1] == '\n';
        EXPECT_EQ(parsed.ok(), at_line_end) << length;
        if (parsed.ok()) {
            EXPECT_LT(parsed.value().services.size(), 2u);
        } else {
            EXPECT_EQ(parsed.error(), Errc::malformed);
        }
    }
}

TEST(ServiceDirectory, NamesFollowTheConfigRule) {
    for (const std::string_view name : {"a", "ssh", "web-ui", "a1", "a-1-b", "abcdefghijklmnopqrstuvwxyz01234"}) {
        EXPECT_TRUE(is_valid_name(name)) << name;
    }
    for (const std::string_view name : {"", "1a", "-a", "a-", "A", "a_b", "a b", "a.b",
                                        "abcdefghijklmnopqrstuvwxyz012345"}) {
        EXPECT_FALSE(is_valid_name(name)) << name;
    }
}

}  // namespace
}  // namespace pinhole::overlay
