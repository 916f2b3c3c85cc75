// core/noise against the cacophony Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s vector
// (data/noise/, copied from the public cacophony set), and an IK round trip.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/crypto/x25519.h"
#include "core/noise/handshake_state.h"
#include "test_crypto_hex.h"

namespace pinhole::noise {
namespace {

using test::hex;
using test::hex_array;
using test::to_hex;

// The vector file is flat enough to read by key: the n-th `"key": "hex"` in file order.
class VectorFile {
public:
    explicit VectorFile(const std::string& path) {
        std::ifstream file(path);
        std::stringstream contents;
        contents << file.rdbuf();
        text_ = contents.str();
        EXPECT_FALSE(text_.empty()) << "cannot read " << path;
    }
    std::string value(const std::string& key, std::size_t occurrence = 0) const {
        const std::string marker = "\"" + key + "\": \"";
        std::size_t at = 0;
        for (std::size_t i = 0; i <= occurrence; ++i) {
            at = text_.find(marker, i == 0 ? 0 : at + 1);
            if (at == std::string::npos) return {};
        }
        const std::size_t start = at + marker.size();
        return text_.substr(start, text_.find('"', start) - start);
    }

    // The first string of the array under `key` ("init_psks": ["hex"]).
    std::string first_in_array(const std::string& key) const {
        const std::size_t at = text_.find("\"" + key + "\": [");
        if (at == std::string::npos) return {};
        const std::size_t start = text_.find('"', text_.find('[', at)) + 1;
        return text_.substr(start, text_.find('"', start) - start);
    }

private:
    std::string text_;
};

crypto::X25519Key public_of(const crypto::X25519Key& private_key) {
    crypto::X25519Key public_key{};
    EXPECT_TRUE(crypto::x25519_public_key(public_key, private_key).ok());
    return public_key;
}

struct Vector {
    std::string protocol_name;
    std::vector<std::uint8_t> prologue;
    crypto::X25519Key psk, init_static, init_ephemeral, resp_static, resp_ephemeral;
    std::string handshake_hash;
    std::vector<std::vector<std::uint8_t>> payloads, ciphertexts;
};

Vector load_vector() {
    const VectorFile file(std::string(PINHOLE_TEST_DATA_DIR) +
                          "/noise/noise-ikpsk2-25519-chachapoly-blake2s.json");
    Vector vector;
    vector.protocol_name = file.value("protocol_name");
    vector.prologue = hex(file.value("init_prologue"));
    EXPECT_EQ(file.value("init_prologue"), file.value("resp_prologue"));
    vector.psk = hex_array<32>(file.first_in_array("init_psks"));
    EXPECT_EQ(file.first_in_array("init_psks"), file.first_in_array("resp_psks"));
    vector.init_static = hex_array<32>(file.value("init_static"));
    vector.init_ephemeral = hex_array<32>(file.value("init_ephemeral"));
    vector.resp_static = hex_array<32>(file.value("resp_static"));
    vector.resp_ephemeral = hex_array<32>(file.value("resp_ephemeral"));
    vector.handshake_hash = file.value("handshake_hash");
    for (std::size_t i = 0; i < 6; ++i) {
        vector.payloads.push_back(hex(file.value("payload", i)));
        vector.ciphertexts.push_back(hex(file.value("ciphertext", i)));
    }
    return vector;
}

TEST(Noise, CacophonyIkpsk2Vector) {
    Vector vector = load_vector();
    ASSERT_EQ(vector.protocol_name, "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s");
    HandshakeParams initiator_params{vector.protocol_name, vector.prologue, Pattern::ikpsk2,
                                     Role::initiator, vector.init_static,
                                     public_of(vector.init_static), public_of(vector.resp_static),
                                     vector.psk, {}};
    HandshakeParams responder_params{vector.protocol_name, vector.prologue, Pattern::ikpsk2,
                                     Role::responder, vector.resp_static,
                                     public_of(vector.resp_static), {}, {}, {}};
    HandshakeState initiator;
    HandshakeState responder;
    initiator.initialize(initiator_params);
    responder.initialize(responder_params);

    std::vector<std::uint8_t> message1(message1_overhead_bytes + vector.payloads[0].size());
    ASSERT_TRUE(initiator.write_message1(message1, vector.payloads[0], vector.init_ephemeral).ok());
    EXPECT_EQ(to_hex(message1), to_hex(vector.ciphertexts[0]));
    std::vector<std::uint8_t> payload1(vector.payloads[0].size());
    ASSERT_TRUE(responder.read_message1(payload1, message1).ok());
    EXPECT_EQ(payload1, vector.payloads[0]);
    EXPECT_EQ(responder.remote_static(), public_of(vector.init_static));
    responder.set_psk(vector.psk);  // the responder picks the psk once it knows the initiator

    std::vector<std::uint8_t> message2(message2_overhead_bytes + vector.payloads[1].size());
    ASSERT_TRUE(responder.write_message2(message2, vector.payloads[1], vector.resp_ephemeral).ok());
    EXPECT_EQ(to_hex(message2), to_hex(vector.ciphertexts[1]));
    std::vector<std::uint8_t> payload2(vector.payloads[1].size());
    ASSERT_TRUE(initiator.read_message2(payload2, message2).ok());
    EXPECT_EQ(payload2, vector.payloads[1]);

    EXPECT_EQ(to_hex(initiator.handshake_hash()), vector.handshake_hash);
    EXPECT_EQ(to_hex(responder.handshake_hash()), vector.handshake_hash);

    CipherState initiator_send, initiator_receive, responder_receive, responder_send;
    ASSERT_TRUE(initiator.split(initiator_send, initiator_receive).ok());
    ASSERT_TRUE(responder.split(responder_receive, responder_send).ok());
    // Transport messages alternate: initiator, responder, initiator, responder.
    for (std::size_t i = 2; i < vector.payloads.size(); ++i) {
        const bool from_initiator = i % 2 == 0;
        CipherState& sender = from_initiator ? initiator_send : responder_send;
        CipherState& receiver = from_initiator ? responder_receive : initiator_receive;
        std::vector<std::uint8_t> sealed(vector.payloads[i].size() + tag_bytes);
        ASSERT_TRUE(sender.encrypt_with_ad(sealed, {}, vector.payloads[i]).ok());
        EXPECT_EQ(to_hex(sealed), to_hex(vector.ciphertexts[i])) << "message " << i;
        std::vector<std::uint8_t> opened(vector.payloads[i].size());
        ASSERT_TRUE(receiver.decrypt_with_ad(opened, {}, sealed).ok());
        EXPECT_EQ(opened, vector.payloads[i]);
    }
}

// Noise_IK (no psk), as the gateway channel will use it: both sides agree on keys and hash,
// and a responder with another static key cannot read message 1.
TEST(Noise, IkRoundTrip) {
    const std::string_view name = "Noise_IK_25519_ChaChaPoly_BLAKE2s";
    const std::vector<std::uint8_t> prologue = test::bytes_of("pinhole gateway");
    const auto initiator_static = hex_array<32>("01" + std::string(62, '2'));
    const auto responder_static = hex_array<32>("03" + std::string(62, '4'));
    HandshakeState initiator;
    HandshakeState responder;
    initiator.initialize({name, prologue, Pattern::ik, Role::initiator, initiator_static,
                          public_of(initiator_static), public_of(responder_static), {}, {}});
    responder.initialize({name, prologue, Pattern::ik, Role::responder, responder_static,
                          public_of(responder_static), {}, {}, {}});
    const std::vector<std::uint8_t> hello = test::bytes_of("hello");
    std::vector<std::uint8_t> message1(message1_overhead_bytes + hello.size());
    ASSERT_TRUE(initiator.write_message1(message1, hello, hex_array<32>(std::string(64, '5'))).ok());
    std::vector<std::uint8_t> payload1(hello.size());
    ASSERT_TRUE(responder.read_message1(payload1, message1).ok());
    EXPECT_EQ(payload1, hello);
    EXPECT_EQ(responder.remote_static(), public_of(initiator_static));

    std::vector<std::uint8_t> message2(message2_overhead_bytes);
    ASSERT_TRUE(responder.write_message2(message2, {}, hex_array<32>(std::string(64, '6'))).ok());
    ASSERT_TRUE(initiator.read_message2({}, message2).ok());
    EXPECT_EQ(initiator.handshake_hash(), responder.handshake_hash());

    CipherState initiator_send, initiator_receive, responder_receive, responder_send;
    ASSERT_TRUE(initiator.split(initiator_send, initiator_receive).ok());
    ASSERT_TRUE(responder.split(responder_receive, responder_send).ok());
    EXPECT_EQ(initiator_send.key(), responder_receive.key());
    EXPECT_EQ(initiator_receive.key(), responder_send.key());
    EXPECT_NE(initiator_send.key(), initiator_receive.key());
    // Split wiped the handshake's secrets.
    EXPECT_EQ(initiator.symmetric_state().chaining_key(), Hash{});

    HandshakeState stranger;
    const auto stranger_static = hex_array<32>("07" + std::string(62, '8'));
    stranger.initialize({name, prologue, Pattern::ik, Role::responder, stranger_static,
                         public_of(stranger_static), {}, {}, {}});
    EXPECT_EQ(stranger.read_message1(payload1, message1).error(), Errc::authentication);
    EXPECT_EQ(stranger.failed_step(), HandshakeState::FailedStep::static_key);
    EXPECT_EQ(stranger.stage(), Stage::empty);  // wiped on failure
}

TEST(Noise, RefusesOutOfOrderAndWrongSizes) {
    HandshakeState state;
    const auto key = hex_array<32>(std::string(64, '9'));
    state.initialize({"Noise_IK_25519_ChaChaPoly_BLAKE2s", {}, Pattern::ik, Role::initiator, key,
                      public_of(key), public_of(key), {}, {}});
    std::vector<std::uint8_t> short_message(message1_overhead_bytes - 1);
    EXPECT_EQ(state.write_message1(short_message, {}, key).error(), Errc::invalid_argument);
    CipherState first, second;
    EXPECT_EQ(state.split(first, second).error(), Errc::invalid_argument);
    EXPECT_FALSE(first.has_key());
}

TEST(Noise, CipherStateWithoutKeyCopiesThrough) {
    CipherState cipher;
    const std::vector<std::uint8_t> plain = test::bytes_of("abc");
    std::vector<std::uint8_t> out(plain.size());
    ASSERT_TRUE(cipher.encrypt_with_ad(out, {}, plain).ok());
    EXPECT_EQ(out, plain);
}

}  // namespace
}  // namespace pinhole::noise
