/*
 * Reference vectors for leomodem's errors-and-erasures Reed-Solomon decoder
 * (RsCode::decode_codeword_with_erasures in dsp/src/fec/rs.rs), produced with Phil Karn's
 * libfec (Debian/Ubuntu package libfec-dev).
 *
 * Build and run (from the repository root); the output must equal the committed file:
 *
 *   gcc -O2 -Wall -o /tmp/gen_rs_erasures_libfec tests/vectors/gen_rs_erasures_libfec.c -lfec \
 *     && /tmp/gen_rs_erasures_libfec > /tmp/rs_erasures_libfec.txt \
 *     && cmp /tmp/rs_erasures_libfec.txt tests/vectors/rs_erasures_libfec.txt
 *
 * Regenerate: /tmp/gen_rs_erasures_libfec > tests/vectors/rs_erasures_libfec.txt
 *
 * Codes (CCSDS 131.0-B §4.3, see gen_rs_libfec.c): E = 16 dual basis
 * (encode_rs_ccsds / decode_rs_ccsds), E = 16 conventional (encode_rs_8 / decode_rs_8),
 * E = 8 conventional (init_rs_char(8, 0x187, 120, 11, 16, pad), encode/decode_rs_char).
 * Interleaving depth 1; pad = virtual fill (§4.3.7). A codeword of random data gets
 * `nu` errors outside the erased positions and `f` erasures, `w` of which also carry an
 * error (an erasure may hold a right or a wrong value). libfec's erasure positions are
 * indices into the transmitted codeword (0 = first symbol sent, virtual fill excluded),
 * which are also the block byte indices at I = 1.
 *
 * Output lines (hex lower case):
 *   eras <basis> <E> <data_len> <nu> <f> <w> <positions, comma separated, or -> <received>
 *        <libfec return> <decoded (the received block after decode_rs_*)>
 * libfec returns the number of corrected symbols (errors plus erasures), or -1.
 */
#include <fec.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned int rng_state = 0x1d872b41u;

static unsigned int next_u32(void) {
    unsigned int x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return x;
}

static void print_hex(const unsigned char *p, int n) {
    for (int i = 0; i < n; i++)
        printf("%02x", p[i]);
}

static void one(int dual, int e, int data_len, int nu, int f, int w) {
    int nroots = 2 * e;
    int pad = 255 - nroots - data_len;
    int n = data_len + nroots;
    unsigned char cw[255], rx[255];
    void *rs = NULL;
    for (int i = 0; i < data_len; i++)
        cw[i] = (unsigned char)(next_u32() >> 24);
    if (e == 16) {
        if (dual)
            encode_rs_ccsds(cw, cw + data_len, pad);
        else
            encode_rs_8(cw, cw + data_len, pad);
    } else {
        rs = init_rs_char(8, 0x187, 128 - e, 11, nroots, pad);
        if (rs == NULL) {
            fprintf(stderr, "init_rs_char failed\n");
            exit(1);
        }
        encode_rs_char(rs, cw, cw + data_len);
    }
    /* Distinct positions: the first f are erased (the first w of them hold errors),
     * the next nu hold errors. */
    int pos[255];
    for (int i = 0; i < n; i++)
        pos[i] = i;
    for (int i = 0; i < f + nu; i++) {
        int j = i + (int)(next_u32() % (unsigned)(n - i));
        int t = pos[i];
        pos[i] = pos[j];
        pos[j] = t;
    }
    memcpy(rx, cw, (size_t)n);
    for (int i = 0; i < f + nu; i++) {
        if (i < f && i >= w)
            continue;
        unsigned char v = (unsigned char)(1 + next_u32() % 255);
        rx[pos[i]] ^= v;
    }
    int eras[255];
    for (int i = 0; i < f; i++)
        eras[i] = pos[i];
    printf("eras %s %d %d %d %d %d ", dual ? "dual" : "conv", e, data_len, nu, f, w);
    if (f == 0)
        printf("-");
    for (int i = 0; i < f; i++)
        printf(i ? ",%d" : "%d", eras[i]);
    printf(" ");
    print_hex(rx, n);
    int ret;
    if (e == 16)
        ret = dual ? decode_rs_ccsds(rx, eras, f, pad) : decode_rs_8(rx, eras, f, pad);
    else
        ret = decode_rs_char(rs, rx, eras, f);
    printf(" %d ", ret);
    print_hex(rx, n);
    printf("\n");
    if (rs)
        free_rs_char(rs);
}

int main(void) {
    static const struct { int nu, f, w; } e16[] = {
        {0, 0, 0}, {3, 0, 0}, {16, 0, 0}, {0, 32, 32}, {0, 32, 10}, {8, 16, 16},
        {4, 24, 20}, {1, 30, 30}, {6, 20, 5}, {15, 2, 2}, {0, 5, 0},
        /* beyond 2nu + f <= 32: libfec must fail (or, rarely, miscorrect) */
        {9, 16, 16}, {12, 10, 10}, {17, 0, 0}, {2, 30, 30}, {20, 4, 4},
    };
    static const struct { int nu, f, w; } e8[] = {
        {0, 16, 16}, {4, 8, 8}, {2, 12, 6}, {8, 0, 0}, {5, 8, 8}, {1, 15, 15},
    };
    for (int rep = 0; rep < 2; rep++) {
        for (size_t c = 0; c < sizeof e16 / sizeof e16[0]; c++) {
            one(1, 16, 223, e16[c].nu, e16[c].f, e16[c].w);
            one(0, 16, 223, e16[c].nu, e16[c].f, e16[c].w);
            one(1, 16, 100, e16[c].nu, e16[c].f, e16[c].w);
        }
        for (size_t c = 0; c < sizeof e8 / sizeof e8[0]; c++) {
            one(0, 8, 239, e8[c].nu, e8[c].f, e8[c].w);
            one(0, 8, 150, e8[c].nu, e8[c].f, e8[c].w);
        }
    }
    return 0;
}
