// WireGuard's handshake between two parties in memory: derived keys that interoperate, the
// well-known initial state, and every counted rejection.
#include <gtest/gtest.h>

#include <vector>

#include "core/crypto/chacha20poly1305.h"
#include "core/noise/handshake_state.h"
#include "core/wireguard/handshake.h"
#include "fakes.h"
#include "test_crypto_hex.h"

namespace pinhole::wireguard {
namespace {

using test::hex_array;
using test::to_hex;

StaticIdentity identity_from(std::uint8_t seed) {
    StaticIdentity identity;
    identity.private_key.fill(seed);
    crypto::x25519_clamp(identity.private_key);
    EXPECT_TRUE(crypto::x25519_public_key(identity.public_key, identity.private_key).ok());
    return identity;
}

HandshakePeerKeys peer_keys(const StaticIdentity& self, const StaticIdentity& other,
                            const crypto::X25519Key& psk = {}) {
    HandshakePeerKeys keys;
    EXPECT_TRUE(make_peer_keys(keys, self, other.public_key, psk).ok());
    return keys;
}

// Two parties, each knowing the other, and the clocks the handshake is given.
struct Pair {
    StaticIdentity alice = identity_from(0x11);  // initiator
    StaticIdentity bob = identity_from(0x22);    // responder
    crypto::X25519Key psk{};
    HandshakePeerKeys alice_knows_bob = peer_keys(alice, bob);
    HandshakePeerKeys bob_knows_alice = peer_keys(bob, alice);
    Handshake alice_handshake;
    Handshake bob_handshake;
    fakes::CountingRandom random;
    MessageCounters counters;
    port::WallTime wall{1'700'000'000, 0};
    std::uint32_t now_ms = 1000;

    void use_psk(std::uint8_t fill) {
        psk.fill(fill);
        alice_knows_bob = peer_keys(alice, bob, psk);
        bob_knows_alice = peer_keys(bob, alice, psk);
    }
    InitiationMessage initiate() {
        InitiationMessage message;
        EXPECT_TRUE(alice_handshake.create_initiation(message, alice, alice_knows_bob, wall, random, 0xa1).ok());
        return message;
    }
    Result<SessionKeys> respond(const InitiationMessage& initiation, ResponseMessage& response) {
        Result<InitiationSeen> seen = consume_initiation(initiation, bob, counters);
        if (!seen.ok()) return seen.error();
        EXPECT_EQ(seen.value().remote_static, alice.public_key);
        return bob_handshake.create_response(response, seen.value(), bob_knows_alice, now_ms,
                                             random, 0xb2, counters);
    }
};

void expect_interoperate(const KeyMaterial& sender, const KeyMaterial& receiver) {
    const std::vector<std::uint8_t> packet = test::bytes_of("an IP packet");
    std::vector<std::uint8_t> sealed(packet.size() + 16);
    const auto nonce = crypto::chacha20poly1305_counter_nonce(0);
    ASSERT_TRUE(crypto::chacha20poly1305_seal(sealed, sender.sending_key, nonce, {}, packet).ok());
    std::vector<std::uint8_t> opened(packet.size());
    ASSERT_TRUE(crypto::chacha20poly1305_open(opened, receiver.receiving_key, nonce, {}, sealed).ok());
    EXPECT_EQ(opened, packet);
}

TEST(WgHandshake, InitialStateMatchesWireGuard) {
    // HASH(CONSTRUCTION) and HASH(ck ‖ IDENTIFIER), as wireguard-go and the kernel hard-code.
    noise::SymmetricState symmetric;
    symmetric.initialize(construction);
    EXPECT_EQ(to_hex(symmetric.chaining_key()),
              "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
    symmetric.mix_hash(test::as_bytes(identifier));
    EXPECT_EQ(to_hex(symmetric.handshake_hash()),
              "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
    // And after the responder's static key {9, 0, ...} (a Go implementation's test prints it).
    crypto::X25519Key responder{};
    responder[0] = 9;
    symmetric.mix_hash(responder);
    EXPECT_EQ(to_hex(symmetric.handshake_hash()),
              "575bad75a5a30f85f58df113422a55d41873e357b40a3a2ea91f456c9508211a");
}

TEST(WgHandshake, FullHandshakeKeysMatchAndInteroperate) {
    for (const bool with_psk : {false, true}) {
        Pair pair;
        if (with_psk) pair.use_psk(0x5c);
        const InitiationMessage initiation = pair.initiate();
        EXPECT_EQ(pair.alice_handshake.stage(), HandshakeStage::created_initiation);
        ResponseMessage response;
        Result<SessionKeys> bob_keys = pair.respond(initiation, response);
        ASSERT_TRUE(bob_keys.ok());
        EXPECT_EQ(pair.bob_handshake.stage(), HandshakeStage::created_response);
        EXPECT_EQ(response.receiver_index, 0xa1u);
        EXPECT_EQ(response.sender_index, 0xb2u);
        Result<SessionKeys> alice_keys = pair.alice_handshake.consume_response(response, pair.counters);
        ASSERT_TRUE(alice_keys.ok());
        EXPECT_EQ(pair.alice_handshake.stage(), HandshakeStage::consumed_response);

        const SessionKeys& a = alice_keys.value();
        const SessionKeys& b = bob_keys.value();
        EXPECT_TRUE(a.initiator);
        EXPECT_FALSE(b.initiator);
        EXPECT_EQ(a.local_index, 0xa1u);
        EXPECT_EQ(a.remote_index, 0xb2u);
        EXPECT_EQ(b.local_index, 0xb2u);
        EXPECT_EQ(b.remote_index, 0xa1u);
        EXPECT_EQ(a.keys.sending_key, b.keys.receiving_key);
        EXPECT_EQ(a.keys.receiving_key, b.keys.sending_key);
        EXPECT_NE(a.keys.sending_key, a.keys.receiving_key);
        expect_interoperate(a.keys, b.keys);
        expect_interoperate(b.keys, a.keys);
        EXPECT_EQ(total_rejections(pair.counters), 0u);
    }
}

TEST(WgHandshake, InjectedEphemeralsAreDeterministic) {
    Pair first;
    Pair second;
    const auto ephemeral = hex_array<32>(std::string(64, '4'));
    InitiationMessage one;
    InitiationMessage two;
    ASSERT_TRUE(first.alice_handshake.create_initiation_with_ephemeral(
        one, first.alice, first.alice_knows_bob, first.wall, ephemeral, 1).ok());
    ASSERT_TRUE(second.alice_handshake.create_initiation_with_ephemeral(
        two, second.alice, second.alice_knows_bob, second.wall, ephemeral, 1).ok());
    EXPECT_EQ(one.encrypted_static, two.encrypted_static);
    EXPECT_EQ(one.encrypted_timestamp, two.encrypted_timestamp);
}

TEST(WgHandshake, PskMismatchFailsTheResponse) {
    Pair pair;
    pair.alice_knows_bob = peer_keys(pair.alice, pair.bob, hex_array<32>(std::string(64, '1')));
    const InitiationMessage initiation = pair.initiate();
    ResponseMessage response;
    ASSERT_TRUE(pair.respond(initiation, response).ok());
    EXPECT_EQ(pair.alice_handshake.consume_response(response, pair.counters).error(),
              Errc::authentication);
    EXPECT_EQ(pair.counters.decrypt_empty, 1u);
}

TEST(WgHandshake, TamperedStaticOrTimestampIsCounted) {
    Pair pair;
    InitiationMessage initiation = pair.initiate();
    initiation.encrypted_static[3] ^= 1;
    EXPECT_EQ(consume_initiation(initiation, pair.bob, pair.counters).error(), Errc::authentication);
    EXPECT_EQ(pair.counters.decrypt_static, 1u);

    initiation = pair.initiate();
    initiation.encrypted_timestamp[27] ^= 0x80;
    EXPECT_EQ(consume_initiation(initiation, pair.bob, pair.counters).error(), Errc::authentication);
    EXPECT_EQ(pair.counters.decrypt_timestamp, 1u);

    // An initiation for someone else does not decrypt under our key.
    initiation = pair.initiate();
    EXPECT_FALSE(consume_initiation(initiation, identity_from(0x33), pair.counters).ok());
    EXPECT_EQ(pair.counters.decrypt_static, 2u);
}

TEST(WgHandshake, LowOrderEphemeralIsCountedAsWeakKey) {
    Pair pair;
    InitiationMessage initiation = pair.initiate();
    initiation.ephemeral.fill(0);  // the identity point: DH gives all zeros
    EXPECT_EQ(consume_initiation(initiation, pair.bob, pair.counters).error(), Errc::weak_key);
    EXPECT_EQ(pair.counters.weak_key, 1u);
}

TEST(WgHandshake, ReplayedInitiationIsStale) {
    Pair pair;
    const InitiationMessage initiation = pair.initiate();
    ResponseMessage response;
    ASSERT_TRUE(pair.respond(initiation, response).ok());
    pair.now_ms += 10'000;  // long past the flood limit: only the timestamp refuses it
    EXPECT_EQ(pair.respond(initiation, response).error(), Errc::refused);
    EXPECT_EQ(pair.counters.stale_timestamp, 1u);
    EXPECT_EQ(pair.bob_handshake.stage(), HandshakeStage::created_response);

    // An older timestamp is stale too; a newer one goes through.
    pair.wall.seconds -= 5;
    EXPECT_FALSE(pair.respond(pair.initiate(), response).ok());
    EXPECT_EQ(pair.counters.stale_timestamp, 2u);
    pair.wall.seconds += 10;
    EXPECT_TRUE(pair.respond(pair.initiate(), response).ok());
}

TEST(WgHandshake, InitiationFloodIsCounted) {
    Pair pair;
    ResponseMessage response;
    ASSERT_TRUE(pair.respond(pair.initiate(), response).ok());
    pair.wall.seconds += 1;  // a fresh timestamp, but only 5 ms later
    pair.now_ms += 5;
    EXPECT_EQ(pair.respond(pair.initiate(), response).error(), Errc::refused);
    EXPECT_EQ(pair.counters.flood, 1u);
    pair.wall.seconds += 1;
    pair.now_ms += initiation_min_interval_ms;
    EXPECT_TRUE(pair.respond(pair.initiate(), response).ok());
}

TEST(WgHandshake, UnknownStaticKeyIsReportedForTheDeviceToCount) {
    Pair pair;
    const StaticIdentity stranger = identity_from(0x44);
    Handshake stranger_handshake;
    InitiationMessage initiation;
    ASSERT_TRUE(stranger_handshake.create_initiation(initiation, stranger,
                                                     peer_keys(stranger, pair.bob), pair.wall,
                                                     pair.random, 5).ok());
    Result<InitiationSeen> seen = consume_initiation(initiation, pair.bob, pair.counters);
    ASSERT_TRUE(seen.ok());  // it decrypts: only the lookup can tell it is nobody we know
    EXPECT_EQ(seen.value().remote_static, stranger.public_key);
    EXPECT_NE(seen.value().remote_static, pair.alice.public_key);
    count_rejection(pair.counters, Rejection::unknown_peer);  // what the device does
    seen.value().forget();
    EXPECT_EQ(seen.value().noise.stage(), noise::Stage::empty);
    EXPECT_EQ(pair.counters.unknown_peer, 1u);
}

TEST(WgHandshake, ForgedResponseLeavesTheInitiationOutstanding) {
    Pair pair;
    const InitiationMessage initiation = pair.initiate();
    ResponseMessage response;
    ASSERT_TRUE(pair.respond(initiation, response).ok());
    ResponseMessage forged = response;
    forged.encrypted_empty[0] ^= 1;
    EXPECT_FALSE(pair.alice_handshake.consume_response(forged, pair.counters).ok());
    EXPECT_EQ(pair.counters.decrypt_empty, 1u);
    EXPECT_EQ(pair.alice_handshake.stage(), HandshakeStage::created_initiation);
    forged = response;
    forged.receiver_index ^= 1;
    EXPECT_EQ(pair.alice_handshake.consume_response(forged, pair.counters).error(),
              Errc::invalid_argument);
    EXPECT_EQ(pair.counters.unexpected_state, 1u);
    EXPECT_TRUE(pair.alice_handshake.consume_response(response, pair.counters).ok());
    // A second copy of the response finds no initiation outstanding.
    EXPECT_FALSE(pair.alice_handshake.consume_response(response, pair.counters).ok());
    EXPECT_EQ(pair.counters.unexpected_state, 2u);
}

TEST(WgHandshake, PeerKeysRefuseLowOrderPublicKey) {
    const StaticIdentity self = identity_from(0x11);
    HandshakePeerKeys keys;
    keys.remote_static.fill(0x77);
    EXPECT_EQ(make_peer_keys(keys, self, crypto::X25519Key{}, {}).error(), Errc::weak_key);
    EXPECT_EQ(keys.remote_static, crypto::X25519Key{});  // wiped
}

}  // namespace
}  // namespace pinhole::wireguard
