/*
 * Reference vectors for leomodem's CCSDS Reed-Solomon encoder (dsp/src/fec/rs.rs),
 * produced with Phil Karn's libfec (Debian/Ubuntu package libfec-dev).
 *
 * Build and run (from the repository root); the output must equal the committed file:
 *
 *   gcc -O2 -Wall -o /tmp/gen_rs_libfec tests/vectors/gen_rs_libfec.c -lfec \
 *     && /tmp/gen_rs_libfec > /tmp/rs_libfec.txt \
 *     && cmp /tmp/rs_libfec.txt tests/vectors/rs_libfec.txt
 *
 * Regenerate: /tmp/gen_rs_libfec > tests/vectors/rs_libfec.txt
 *
 * Codes (CCSDS 131.0-B §4.3): field F(x) = x^8+x^7+x^2+x+1 (0x187),
 * g(x) = prod_{j=128-E}^{127+E} (x - alpha^{11 j}), i.e. libfec fcr = 128-E, prim = 11,
 * nroots = 2E:
 *   E = 16, dual basis:          encode_rs_ccsds(data, parity, pad)
 *   E = 16, conventional basis:  encode_rs_8(data, parity, pad)
 *   E = 8,  conventional basis:  init_rs_char(8, 0x187, 120, 11, 16, pad) + encode_rs_char
 *   E = 8,  dual basis:          the same, with data mapped through Tal1tab (dual ->
 *                                conventional) and parity through Taltab, exactly as
 *                                libfec's encode_rs_ccsds does for E = 16.
 * pad = virtual fill q (leading zero symbols neither encoded nor sent, §4.3.7).
 *
 * Interleaving (§4.3.5, §4.4.1): codeword j (0 <= j < I) holds block bytes j, j+I, j+2I...
 * A block of data_len = (255-2E-q)*I bytes of data is followed by the 2E*I interleaved
 * parity bytes.
 *
 * Output lines (hex, lower case, no separators):
 *   tal  <256 bytes>   libfec Taltab  (conventional -> dual)
 *   tal1 <256 bytes>   libfec Tal1tab (dual -> conventional)
 *   block <basis> <E> <I> <data_len> <block bytes>   basis: dual | conv
 * Data bytes come from xorshift32 seeded per block (seed printed nowhere; the data is
 * the first data_len bytes of the block, the code being systematic).
 */
#include <fec.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned int rng_state;

static unsigned char next_byte(void) {
    unsigned int x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return (unsigned char)(x >> 24);
}

static void print_hex(const unsigned char *p, int n) {
    for (int i = 0; i < n; i++)
        printf("%02x", p[i]);
}

/* Encode one codeword of k = 255-2E-pad data symbols (wire representation). */
static void encode_one(int dual, int e, int pad, const unsigned char *data, unsigned char *parity) {
    int nroots = 2 * e;
    int k = 255 - nroots - pad;
    if (e == 16) {
        unsigned char d[223];
        memcpy(d, data, (size_t)k);
        if (dual)
            encode_rs_ccsds(d, parity, pad);
        else
            encode_rs_8(d, parity, pad);
        return;
    }
    void *rs = init_rs_char(8, 0x187, 128 - e, 11, nroots, pad);
    if (rs == NULL) {
        fprintf(stderr, "init_rs_char failed\n");
        exit(1);
    }
    unsigned char c[255];
    for (int i = 0; i < k; i++)
        c[i] = dual ? Tal1tab[data[i]] : data[i];
    encode_rs_char(rs, c, parity);
    if (dual)
        for (int i = 0; i < nroots; i++)
            parity[i] = Taltab[parity[i]];
    free_rs_char(rs);
}

static void block(int dual, int e, int il, int data_len, unsigned int seed) {
    int nroots = 2 * e;
    int k = data_len / il;
    int pad = 255 - nroots - k;
    int block_len = data_len + nroots * il;
    unsigned char *b = calloc((size_t)block_len, 1);
    unsigned char cw[255], parity[32];
    rng_state = seed;
    for (int i = 0; i < data_len; i++)
        b[i] = next_byte();
    for (int j = 0; j < il; j++) {
        for (int m = 0; m < k; m++)
            cw[m] = b[j + il * m];
        encode_one(dual, e, pad, cw, parity);
        for (int p = 0; p < nroots; p++)
            b[data_len + j + il * p] = parity[p];
    }
    printf("block %s %d %d %d ", dual ? "dual" : "conv", e, il, data_len);
    print_hex(b, block_len);
    printf("\n");
    free(b);
}

int main(void) {
    printf("tal ");
    print_hex(Taltab, 256);
    printf("\ntal1 ");
    print_hex(Tal1tab, 256);
    printf("\n");

    static const struct { int dual, e, il, data_len; } cases[] = {
        /* I = 1, full length */
        {1, 16, 1, 223}, {0, 16, 1, 223}, {1, 8, 1, 239}, {0, 8, 1, 239},
        /* I = 1, shortened */
        {1, 16, 1, 100}, {0, 16, 1, 1}, {1, 8, 1, 57}, {0, 8, 1, 200},
        /* interleaved, full length */
        {1, 16, 2, 446}, {1, 16, 4, 892}, {1, 16, 5, 1115}, {0, 16, 4, 892},
        {1, 8, 4, 956}, {0, 8, 5, 1195}, {1, 16, 8, 1784},
        /* interleaved, shortened (virtual fill) */
        {1, 16, 4, 800}, {1, 16, 5, 750}, {0, 16, 5, 1000}, {1, 8, 3, 600},
        {0, 8, 2, 222}, {1, 16, 2, 302},
    };
    unsigned int seed = 0x2545F491u;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int reps = cases[c].il == 1 ? 3 : 1; /* keep the file small */
        for (int rep = 0; rep < reps; rep++) {
            block(cases[c].dual, cases[c].e, cases[c].il, cases[c].data_len, seed);
            seed = seed * 1664525u + 1013904223u;
            if (seed == 0)
                seed = 1;
        }
    }
    return 0;
}
