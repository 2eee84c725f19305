/*
 * ref_kernels.c: reference kernel speeds for leomodem's performance floors (issue 7),
 * measured on this machine: VOLK (conv_k7_r2, 32fc_32f dot product as a 65-tap FIR,
 * 32fc rotator), libfec (viterbi27 dispatcher and portable C, decode_rs_ccsds at
 * 0/8/16 errors) and FFTW (1024-point complex forward, FFTW_MEASURE).
 *
 * Not run by CI. Built and run by benches/reference/run_refs.sh:
 *   gcc -O2 -march=native -o /tmp/ref_kernels benches/reference/ref_kernels.c -lvolk -lfec -lfftw3f -lm
 *   /tmp/ref_kernels [seconds]
 *
 * Output: one JSON object per line, the same fields as `leomodem bench --json`:
 *   {"name": ..., "config": ..., "unit": "samples/s" | "bit/s", "rate": ..., "ns_per": ...}
 * Each kernel runs a warm-up, then for `seconds` in slices of ~50 ms; the rate reported
 * is the best slice (the machine is shared, so the best slice is the least disturbed).
 */
#include <complex.h>
#include <fec.h>
#include <fftw3.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <volk/volk.h>

static double seconds = 1.0;

/* CPU time of this thread, like `leomodem bench` for single-threaded kernels: the time
 * the kernel actually ran, not the time other processes held the core. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Times `fn(ctx)` (one call = `items` items): warm-up, then best slice. */
static void run(const char* name, const char* config, const char* unit, double items,
                void (*fn)(void*), void* ctx)
{
    double t0 = now();
    long calls = 0;
    while (now() - t0 < 0.2) {
        fn(ctx);
        calls++;
    }
    double per_call = 0.2 / (calls ? calls : 1);
    long reps = (long)(0.05 / per_call);
    if (reps < 1)
        reps = 1;
    double best = 0.0;
    double start = now();
    while (now() - start < seconds) {
        double a = now();
        for (long i = 0; i < reps; i++)
            fn(ctx);
        double rate = reps * items / (now() - a);
        if (rate > best)
            best = rate;
    }
    printf("{\"name\": \"%s\", \"config\": \"%s\", \"unit\": \"%s\", \"rate\": %.6e, "
           "\"ns_per\": %.4f, \"source\": \"reference\"}\n",
           name, config, unit, best, 1e9 / best);
    fflush(stdout);
}

/* ---- deterministic random numbers ---- */
static uint64_t rng_state = 0x1234567887654321ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static double urand(void) { return (rnd() >> 11) * (1.0 / 9007199254740992.0); }
static double gauss(void)
{
    double u1 = urand(), u2 = urand();
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2 * M_PI * u2);
}

/* ---- Viterbi k=7 r=1/2 ---- */
#define FRAME_BITS 8920
#define STEPS (FRAME_BITS + 6)
static unsigned char vit_syms[2 * STEPS];
static unsigned char vit_out[FRAME_BITS / 8 + 1];
/* parity() comes from fec.h */

/* CCSDS polynomials in libfec's register layout (G1 = 0x4f, G2 = 0x6d, G2 inverted). */
static void make_symbols(void)
{
    int sr = 0;
    double ebn0 = pow(10.0, 4.0 / 10.0);
    double sigma = sqrt(1.0 / (2.0 * 0.5 * ebn0));
    for (int i = 0; i < STEPS; i++) {
        int bit = i < FRAME_BITS ? (int)(rnd() & 1) : 0;
        sr = ((sr << 1) | bit) & 0x7f;
        int c[2] = { parity(sr & 0x4f), !parity(sr & 0x6d) };
        for (int k = 0; k < 2; k++) {
            double y = (c[k] ? -1.0 : 1.0) + sigma * gauss();
            /* libfec/VOLK soft symbols: 0 = strong 0 ... 255 = strong 1 */
            double v = 127.5 - 127.5 * y / 2.0; /* +-2 sigma-ish full scale */
            if (v < 0)
                v = 0;
            if (v > 255)
                v = 255;
            vit_syms[2 * i + k] = (unsigned char)v;
        }
    }
}

static void* vit_port;
static void* vit_simd;
static void libfec_port(void* ctx)
{
    (void)ctx;
    init_viterbi27_port(vit_port, 0);
    update_viterbi27_blk_port(vit_port, vit_syms, STEPS);
    chainback_viterbi27_port(vit_port, vit_out, FRAME_BITS, 0);
}
static void libfec_simd(void* ctx)
{
    (void)ctx;
    init_viterbi27(vit_simd, 0);
    update_viterbi27_blk(vit_simd, vit_syms, STEPS);
    chainback_viterbi27(vit_simd, vit_out, FRAME_BITS, 0);
}

/* VOLK: add-compare-select only (the kernel), and the kernel plus a chainback the way
 * GNU Radio's fec::cc_decoder does it. */
static unsigned char volk_branchtab[64] __attribute__((aligned(32)));
static unsigned char volk_x[64] __attribute__((aligned(32)));
static unsigned char volk_y[64] __attribute__((aligned(32)));
static unsigned char* volk_dec;
static unsigned char volk_syms[2 * STEPS + 8] __attribute__((aligned(32)));
static void volk_acs(void* ctx)
{
    (void)ctx;
    memset(volk_x, 0, 64);
    memset(volk_y, 0, 64);
    memset(volk_dec, 0, 8 * (STEPS + 2));
    /* framebits + excess trellis steps, two per iteration of the SSE3 kernel */
    volk_8u_x4_conv_k7_r2_8u(volk_y, volk_x, volk_syms, volk_dec, FRAME_BITS, 6,
                             volk_branchtab);
}
static void volk_acs_chainback(void* ctx)
{
    volk_acs(ctx);
    /* cc_decoder::chainback_viterbi: 64-bit decision words, state in the low bits */
    unsigned int endstate = 0;
    const uint32_t* d = (const uint32_t*)volk_dec;
    for (int i = STEPS - 1; i >= 0; i--) {
        int k = (d[2 * i + (endstate >> 5)] >> (endstate & 31)) & 1;
        endstate = (endstate >> 1) | (k << 5);
        if (i < FRAME_BITS)
            vit_out[i >> 3] = (unsigned char)endstate;
    }
}

/* ---- FIR via dot product ---- */
#define FIR_TAPS 65
#define FIR_N 4096
static lv_32fc_t* fir_in;
static lv_32fc_t* fir_out;
static float* fir_taps;
static void volk_fir(void* ctx)
{
    (void)ctx;
    for (int i = 0; i < FIR_N; i++)
        volk_32fc_32f_dot_prod_32fc(&fir_out[i], &fir_in[i], fir_taps, FIR_TAPS);
}

/* ---- rotator ---- */
#define ROT_N 8192
static lv_32fc_t* rot_in;
static lv_32fc_t* rot_out;
static lv_32fc_t rot_phase;
static void volk_rot(void* ctx)
{
    (void)ctx;
    lv_32fc_t inc = lv_cmake(cosf(0.01234f), sinf(0.01234f));
    volk_32fc_s32fc_x2_rotator_32fc(rot_out, rot_in, inc, &rot_phase, ROT_N);
}

/* ---- Reed-Solomon ---- */
static unsigned char rs_clean[255];
static unsigned char rs_rx[3][255];
static unsigned char rs_buf[255];
static int rs_which;
static void rs_dec(void* ctx)
{
    (void)ctx;
    memcpy(rs_buf, rs_rx[rs_which], 255);
    decode_rs_ccsds(rs_buf, NULL, 0, 0);
}

/* ---- FFT ---- */
static fftwf_plan fft_plan;
static void fft(void* ctx)
{
    (void)ctx;
    fftwf_execute(fft_plan);
}

int main(int argc, char** argv)
{
    if (argc > 1)
        seconds = atof(argv[1]);
    char cfg[128];

    /* Viterbi */
    make_symbols();
    int polys[2] = { 0x4f, -0x6d };
    find_cpu_mode();
    vit_port = create_viterbi27_port(FRAME_BITS);
    vit_simd = create_viterbi27(FRAME_BITS);
    set_viterbi27_polynomial_port(polys);
    set_viterbi27_polynomial(polys);
    run("viterbi", "libfec portable C, k7 r1/2, 8920-bit frames, Eb/N0 4 dB", "bit/s",
        FRAME_BITS, libfec_port, NULL);
    snprintf(cfg, sizeof cfg, "libfec dispatcher (cpu mode %d), k7 r1/2, 8920-bit frames",
             (int)Cpu_mode);
    run("viterbi", cfg, "bit/s", FRAME_BITS, libfec_simd, NULL);
    for (int i = 0; i < 32; i++) {
        volk_branchtab[i] = parity((2 * i) & 0x4f) ? 255 : 0;
        volk_branchtab[i + 32] = (!parity((2 * i) & 0x6d)) ? 255 : 0;
    }
    memcpy(volk_syms, vit_syms, sizeof vit_syms);
    volk_dec = volk_malloc(8 * (STEPS + 2), volk_get_alignment());
    run("viterbi",
        "VOLK volk_8u_x4_conv_k7_r2_8u (ACS only), k7 r1/2, 8920-bit frames",
        "bit/s", FRAME_BITS, volk_acs, NULL);
    run("viterbi", "VOLK volk_8u_x4_conv_k7_r2_8u + chainback, k7 r1/2, 8920-bit frames",
        "bit/s", FRAME_BITS, volk_acs_chainback, NULL);

    /* FIR */
    size_t al = volk_get_alignment();
    fir_in = volk_malloc(sizeof(lv_32fc_t) * (FIR_N + FIR_TAPS), al);
    fir_out = volk_malloc(sizeof(lv_32fc_t) * FIR_N, al);
    fir_taps = volk_malloc(sizeof(float) * FIR_TAPS, al);
    for (int i = 0; i < FIR_N + FIR_TAPS; i++)
        fir_in[i] = lv_cmake((float)gauss(), (float)gauss());
    for (int i = 0; i < FIR_TAPS; i++)
        fir_taps[i] = (float)gauss();
    run("fir", "VOLK volk_32fc_32f_dot_prod_32fc per output, 65 real taps", "samples/s",
        FIR_N, volk_fir, NULL);

    /* rotator */
    rot_in = volk_malloc(sizeof(lv_32fc_t) * ROT_N, al);
    rot_out = volk_malloc(sizeof(lv_32fc_t) * ROT_N, al);
    for (int i = 0; i < ROT_N; i++)
        rot_in[i] = lv_cmake((float)gauss(), (float)gauss());
    rot_phase = lv_cmake(1.0f, 0.0f);
    run("nco", "VOLK volk_32fc_s32fc_x2_rotator_32fc, 8192-sample buffers", "samples/s",
        ROT_N, volk_rot, NULL);

    /* RS(255,223) CCSDS (dual basis), 0 / 8 / 16 symbol errors */
    for (int i = 0; i < 223; i++)
        rs_clean[i] = (unsigned char)rnd();
    encode_rs_ccsds(rs_clean, rs_clean + 223, 0);
    int errs[3] = { 0, 8, 16 };
    for (int w = 0; w < 3; w++) {
        memcpy(rs_rx[w], rs_clean, 255);
        int pos[255];
        for (int i = 0; i < 255; i++)
            pos[i] = i;
        for (int t = 0; t < errs[w]; t++) {
            int s = t + (int)(rnd() % (255 - t));
            int tmp = pos[t];
            pos[t] = pos[s];
            pos[s] = tmp;
            rs_rx[w][pos[t]] ^= (unsigned char)(1 + rnd() % 255);
        }
        memcpy(rs_buf, rs_rx[w], 255);
        int c = decode_rs_ccsds(rs_buf, NULL, 0, 0);
        if (c != errs[w] || memcmp(rs_buf, rs_clean, 255) != 0) {
            fprintf(stderr, "libfec RS self-check failed (%d errors, got %d)\n", errs[w], c);
            return 1;
        }
        rs_which = w;
        snprintf(cfg, sizeof cfg, "libfec decode_rs_ccsds, (255,223) dual, %d errors",
                 errs[w]);
        run("rs_decode", cfg, "bit/s", 223 * 8, rs_dec, NULL);
    }

    /* FFT 1024 */
    fftwf_complex* fin = fftwf_malloc(sizeof(fftwf_complex) * 1024);
    fftwf_complex* fout = fftwf_malloc(sizeof(fftwf_complex) * 1024);
    fft_plan = fftwf_plan_dft_1d(1024, fin, fout, FFTW_FORWARD, FFTW_MEASURE);
    for (int i = 0; i < 1024; i++) {
        fin[i] = (float)gauss() + I * (float)gauss(); /* complex.h is included */
    }
    run("fft", "FFTW fftwf 1024 complex forward, FFTW_MEASURE, out of place", "samples/s",
        1024, fft, NULL);
    return 0;
}
