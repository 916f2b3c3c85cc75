/* lwIP's checksum routine, wider: lwIP sums at most 32 bits per step with a carry test on each;
 * here 32-bit words go into 64-bit accumulators, which cannot overflow for any int length, so
 * carries are folded once at the end. Words are summed in host order: one's-complement addition
 * commutes with byte swapping (RFC 1071 section 2(B)), so the result only needs the swap that
 * an odd start address causes. */
#include "pinhole_fast_checksum.h"

#include <string.h>

/* memcpy keeps the loads free of alignment and aliasing assumptions; compilers emit one load. */
static uint32_t load_u32(const unsigned char *bytes) {
  uint32_t word;
  memcpy(&word, bytes, sizeof word);
  return word;
}

static uint16_t load_u16(const unsigned char *bytes) {
  uint16_t word;
  memcpy(&word, bytes, sizeof word);
  return word;
}

/* End-around carry folding; a non-zero sum never folds to 0, as in lwIP. */
static uint16_t fold_to_16_bits(uint64_t sum) {
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffu) + (sum >> 16);
  sum = (sum & 0xffffu) + (sum >> 16);
  return (uint16_t)sum;
}

static uint16_t swap_bytes(uint16_t value) {
  return (uint16_t)((value << 8) | (value >> 8));
}

/* Sums whole 32-byte blocks with four independent accumulators, so additions do not wait on
 * each other; returns the bytes it did not consume (fewer than 32). */
static int sum_blocks(const unsigned char **cursor, int length, uint64_t *sum) {
  const unsigned char *bytes = *cursor;
  uint64_t lane0 = 0, lane1 = 0, lane2 = 0, lane3 = 0;
  for (; length >= 32; length -= 32, bytes += 32) {
    lane0 += (uint64_t)load_u32(bytes) + load_u32(bytes + 16);
    lane1 += (uint64_t)load_u32(bytes + 4) + load_u32(bytes + 20);
    lane2 += (uint64_t)load_u32(bytes + 8) + load_u32(bytes + 24);
    lane3 += (uint64_t)load_u32(bytes + 12) + load_u32(bytes + 28);
  }
  *sum += lane0 + lane1 + lane2 + lane3;
  *cursor = bytes;
  return length;
}

/* Sums the host-order 16-bit words of `length` bytes starting at an even offset of the packet;
 * a trailing odd byte is the first byte of a word whose second byte is 0. */
static uint64_t sum_even_start(const unsigned char *bytes, int length) {
  uint64_t sum = 0;
  /* Reach 4-byte alignment first: on 32-bit ARM unaligned word loads are slower or split. */
  if (((uintptr_t)bytes & 2u) != 0 && length >= 2) {
    sum += load_u16(bytes);
    bytes += 2;
    length -= 2;
  }
  length = sum_blocks(&bytes, length, &sum);
  for (; length >= 4; length -= 4, bytes += 4) sum += load_u32(bytes);
  if (length >= 2) {
    sum += load_u16(bytes);
    bytes += 2;
    length -= 2;
  }
  if (length == 1) {
    const unsigned char last_word[2] = {bytes[0], 0};
    sum += load_u16(last_word);
  }
  return sum;
}

uint16_t pinhole_fast_checksum(const void *data, int length) {
  const unsigned char *bytes = (const unsigned char *)data;
  if (length <= 0) return 0;
  if (((uintptr_t)bytes & 1u) == 0) return fold_to_16_bits(sum_even_start(bytes, length));
  /* An odd start: sum from the next (even) address, with the first byte as the second half of
   * a word, which gives the byte-swapped sum; swapping back restores the packet's order. */
  const unsigned char first_word[2] = {0, bytes[0]};
  uint64_t sum = load_u16(first_word) + sum_even_start(bytes + 1, length - 1);
  return swap_bytes(fold_to_16_bits(sum));
}
