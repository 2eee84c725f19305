/*
 * gen_conv_libfec.c: reference vectors for leomodem's CCSDS k=7 r=1/2 convolutional
 * encoder and Viterbi decoder (dsp/src/fec/conv.rs, dsp/src/fec/viterbi.rs), produced
 * with Phil Karn's libfec (Debian/Ubuntu package libfec-dev).
 *
 * Build and run from the repository root (this is what CI does; the output must be
 * byte-identical to the committed file):
 *
 *   gcc -O2 -std=c99 -Wall -Wextra -o /tmp/gen_conv_libfec tests/vectors/gen_conv_libfec.c -lfec \
 *     && /tmp/gen_conv_libfec > tests/vectors/conv_libfec.txt \
 *     && git diff --exit-code tests/vectors/conv_libfec.txt
 *
 * Everything here is integer arithmetic (no libm), so the output does not depend on the
 * platform's floating point.
 *
 * What it writes (one "key value" per line, hex strings MSB first, see below):
 *   - a pseudo-random message of NBITS bits followed by 6 zero tail bits;
 *   - its rate-1/2 encoding from the zero state under the four conventions used by
 *     gr-satellites (python/hier/ccsds_viterbi.py):
 *       CCSDS               (G1, ~G2)   libfec/GNU Radio polys { 0x4f, -0x6d }
 *       CCSDS uninverted    (G1,  G2)                          { 0x4f,  0x6d }
 *       NASA-DSN            (~G2, G1)                          {-0x6d,  0x4f }
 *       NASA-DSN uninverted ( G2, G1)                          { 0x6d,  0x4f }
 *     G1 = 171 octal, G2 = 133 octal (CCSDS 131.0-B §3.3). In libfec's register
 *     (encstate = encstate << 1 | bit, so bit k holds the input delayed by k) they are
 *     the tap masks 0x4f and 0x6d. The polynomial values are written out here rather
 *     than taken from V27POLYA/V27POLYB because libfec forks disagree on those macros
 *     (Karn's 3.0: A = 0x4f, B = 0x6d; the Debian package: A = 0x6d, B = 0x4f).
 *     The encoder is this file's own (libfec has no conv encoder), using libfec's
 *     parity(); the decoding below cross-checks it against libfec's branch tables;
 *   - for CCSDS and NASA-DSN: the encoded symbols through BPSK + AWGN at Eb/N0 = 1.5 dB
 *     as libfec 8-bit soft symbols (0 = confident 0, 255 = confident 1, 127.5 = erasure;
 *     noiseless 0 -> 64, 1 -> 191), libfec's decoded message (portable C decoder
 *     *_port, start state 0, chained back from end state 0), and its bit-error count.
 *
 * Noise: sum of 12 uniform 16-bit integers (a Gaussian to within the central limit
 * theorem, standard deviation 65536), times SIGMA_Q8 / 2^24, truncated toward zero, so
 * its standard deviation is SIGMA_Q8 / 256 soft units. The noiseless amplitude is 63.5
 * (distance from 127.5), so sigma = 63.5 / sqrt(2 * R * Eb/N0) with R = 1/2 and
 * Eb/N0 = 10^(1.5/10) = 1.412538: sigma = 63.5 / 1.188503 = 53.4286, SIGMA_Q8 =
 * round(256 * 53.4286) = 13678.
 */
#include <fec.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NBITS 4096
#define TAIL 6
#define NSTEPS (NBITS + TAIL)
#define NSYMS (2 * NSTEPS)
#define G1_TAPS 0x4f /* 171 octal */
#define G2_TAPS 0x6d /* 133 octal */
#define SIGMA_Q8 13678L /* 256 * sigma; see the header comment */

static uint64_t rng_state = 0x6c656f6d6f64656dULL; /* "leomodem" */

/* splitmix64 (Steele, Lea, Flood 2014) */
static uint64_t next_u64(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Approximately N(0, 65536^2). */
static int64_t gauss_q16(void) {
  int64_t sum = 0;
  for (int i = 0; i < 3; i++) {
    uint64_t r = next_u64();
    for (int k = 0; k < 4; k++)
      sum += (int64_t)((r >> (16 * k)) & 0xffff);
  }
  return sum - 393210; /* 12 * 32767.5 */
}

static void print_bits(const char *key, const unsigned char *bits, int n) {
  printf("%s ", key);
  for (int i = 0; i < n; i += 4) {
    int v = 0;
    for (int k = 0; k < 4; k++)
      v = (v << 1) | (i + k < n ? bits[i + k] : 0);
    printf("%x", v);
  }
  printf("\n");
}

static void print_bytes(const char *key, const unsigned char *b, int n) {
  printf("%s ", key);
  for (int i = 0; i < n; i++)
    printf("%02x", b[i]);
  printf("\n");
}

/* Encodes msg (NSTEPS bits) from the zero state; polys as in GNU Radio / libfec:
 * |p| is the tap mask, a negative value inverts that symbol. */
static void encode(const unsigned char *msg, const int polys[2], unsigned char *out) {
  int encstate = 0;
  for (int i = 0; i < NSTEPS; i++) {
    encstate = ((encstate << 1) | msg[i]) & 0x7f;
    for (int s = 0; s < 2; s++)
      out[2 * i + s] = (unsigned char)(parity(encstate & abs(polys[s])) ^ (polys[s] < 0));
  }
}

static void decode_case(const char *name, const unsigned char *msg, const int polys[2],
                        const int64_t *noise) {
  unsigned char coded[NSYMS], soft[NSYMS], packed[NBITS / 8];
  unsigned char decoded[NBITS];
  char key[64];
  encode(msg, polys, coded);
  for (int i = 0; i < NSYMS; i++) {
    int64_t v = (coded[i] ? 191 : 64) + noise[i];
    soft[i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
  }
  set_viterbi27_polynomial_port((int *)polys);
  void *vp = create_viterbi27_port(NSTEPS);
  if (vp == NULL) {
    fprintf(stderr, "create_viterbi27_port failed\n");
    exit(1);
  }
  init_viterbi27_port(vp, 0);
  update_viterbi27_blk_port(vp, soft, NSTEPS);
  chainback_viterbi27_port(vp, packed, NBITS, 0);
  delete_viterbi27_port(vp);
  int errors = 0;
  for (int i = 0; i < NBITS; i++) {
    decoded[i] = (packed[i / 8] >> (7 - i % 8)) & 1;
    errors += decoded[i] != msg[i];
  }
  snprintf(key, sizeof key, "soft_%s", name);
  print_bytes(key, soft, NSYMS);
  snprintf(key, sizeof key, "decoded_%s", name);
  print_bits(key, decoded, NBITS);
  printf("errors_%s %d\n", name, errors);
}

int main(void) {
  static unsigned char msg[NSTEPS], coded[NSYMS];
  static int64_t noise[NSYMS];
  static const int ccsds[2] = {G1_TAPS, -G2_TAPS};
  static const int ccsds_uninverted[2] = {G1_TAPS, G2_TAPS};
  static const int nasa_dsn[2] = {-G2_TAPS, G1_TAPS};
  static const int nasa_dsn_uninverted[2] = {G2_TAPS, G1_TAPS};

  for (int i = 0; i < NBITS; i++)
    msg[i] = (unsigned char)(next_u64() >> 63);
  for (int i = NBITS; i < NSTEPS; i++)
    msg[i] = 0;
  for (int i = 0; i < NSYMS; i++)
    noise[i] = gauss_q16() * SIGMA_Q8 / (1L << 24);

  printf("# Generated by tests/vectors/gen_conv_libfec.c (libfec); do not edit.\n");
  printf("# CCSDS 131.0-B §3.3 k=7 r=1/2 code, G1=171 G2=133 octal. Hex strings are bits MSB first.\n");
  printf("nbits %d\n", NBITS);
  printf("tail %d\n", TAIL);
  printf("ebn0_centi_db 150\n");
  print_bits("message", msg, NSTEPS);
  encode(msg, ccsds, coded);
  print_bits("encoded_ccsds", coded, NSYMS);
  encode(msg, ccsds_uninverted, coded);
  print_bits("encoded_ccsds_uninverted", coded, NSYMS);
  encode(msg, nasa_dsn, coded);
  print_bits("encoded_nasa_dsn", coded, NSYMS);
  encode(msg, nasa_dsn_uninverted, coded);
  print_bits("encoded_nasa_dsn_uninverted", coded, NSYMS);
  decode_case("ccsds", msg, ccsds, noise);
  decode_case("nasa_dsn", msg, nasa_dsn, noise);
  return 0;
}
