// leomodem_test: a SoapySDR device module for leomodem's tests (no radio needed).
//
// It plays a capture file as an RX stream, paced at the requested sample rate (the
// stream never runs ahead of the wall clock, as a radio cannot), and writes a TX
// stream into a file. Faults are injected on request, so that the receive path that
// runs with hardware is exercised on overflows, disconnects and underflows.
//
// Device arguments (`leomodem devices --device driver=leomodem_test,file=x.cf32`):
//   file=PATH         RX samples: raw cf32 or cs16 interleaved I/Q, little-endian; a
//                     .sigmf-meta or .sigmf-data path reads the .sigmf-data, with the
//                     datatype (cf32_le or ci16_le) taken from the meta.
//   format=cf32|cs16  file format when the name does not tell (default cf32;
//                     `.cs16` means cs16).
//   loop=0|1          restart at the end of the file (default 0).
//   eof=timeout|error at the end of the file: every read times out, like a radio with
//                     no more signal (default), or fails with SOAPY_SDR_STREAM_ERROR.
//   overflow_at=N     at stream sample N, drop overflow_len samples (default 1000) and
//                     return SOAPY_SDR_OVERFLOW once, as if the host had been that late:
//                     the samples after the loss are due at once; time stamps stay true
//                     (they jump by the samples lost).
//   disconnect_at=N   after N samples every read fails with SOAPY_SDR_STREAM_ERROR
//                     ("device unplugged").
//   hw_time=1|0       give hardware time stamps with the samples (default 1).
//   tx_file=PATH      TX samples are appended as cf32 (I, Q float32 little-endian);
//                     the TX stream consumes at the sample rate with 100 ms of buffer.
//   underflow_at=N    report one SOAPY_SDR_UNDERFLOW in readStreamStatus once N TX
//                     samples were written.
//
// One RX and one TX channel; stream formats CF32 (native) and CS16 (scale 32768, as
// leomodem's cs16). Stream time: sample n of the RX stream is at 1 s + n / rate.
//
// Build: tests/soapy_module/build.sh OUTDIR, then SOAPY_SDR_PLUGIN_PATH=OUTDIR.

#include <SoapySDR/Device.hpp>
#include <SoapySDR/Errors.hpp>
#include <SoapySDR/Formats.hpp>
#include <SoapySDR/Logger.hpp>
#include <SoapySDR/Registry.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

const char *const DRIVER = "leomodem_test";
const size_t MTU = 16384;
const long long TIME_BASE_NS = 1000000000LL;

std::string arg(const SoapySDR::Kwargs &a, const std::string &k, const std::string &dflt = "") {
    auto it = a.find(k);
    return it == a.end() ? dflt : it->second;
}

long long arg_ll(const SoapySDR::Kwargs &a, const std::string &k, long long dflt) {
    std::string v = arg(a, k);
    if (v.empty()) return dflt;
    try {
        return std::stoll(v);
    } catch (...) {
        throw std::runtime_error(std::string(DRIVER) + ": " + k + "=" + v + " is not an integer");
    }
}

bool ends_with(const std::string &s, const std::string &suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct Stream {
    int direction;
    bool cs16; // host format CS16 (else CF32)
    bool active = false;
};

class TestDevice : public SoapySDR::Device {
  public:
    explicit TestDevice(const SoapySDR::Kwargs &args)
        : args_(args), rate_{1e6, 1e6}, freq_{100e6, 100e6}, bw_{1e6, 1e6} {
        file_ = arg(args, "file");
        file_cs16_ = arg(args, "format") == "cs16" || ends_with(file_, ".cs16");
        if (ends_with(file_, ".sigmf-meta") || ends_with(file_, ".sigmf-data")) {
            std::string base = file_.substr(0, file_.size() - 11);
            std::ifstream meta(base + ".sigmf-meta");
            std::stringstream ss;
            ss << meta.rdbuf();
            std::string m = ss.str();
            if (m.find("\"ci16_le\"") != std::string::npos) file_cs16_ = true;
            else if (m.find("\"cf32_le\"") != std::string::npos) file_cs16_ = false;
            else throw std::runtime_error(std::string(DRIVER) + ": " + base + ".sigmf-meta: datatype must be cf32_le or ci16_le");
            file_ = base + ".sigmf-data";
        }
        std::string fmt = arg(args, "format");
        if (!fmt.empty() && fmt != "cf32" && fmt != "cs16")
            throw std::runtime_error(std::string(DRIVER) + ": format=" + fmt + " (cf32 or cs16)");
        loop_ = arg(args, "loop", "0") == "1";
        std::string eof = arg(args, "eof", "timeout");
        if (eof != "timeout" && eof != "error")
            throw std::runtime_error(std::string(DRIVER) + ": eof=" + eof + " (timeout or error)");
        eof_error_ = eof == "error";
        overflow_at_ = arg_ll(args, "overflow_at", -1);
        overflow_len_ = arg_ll(args, "overflow_len", 1000);
        disconnect_at_ = arg_ll(args, "disconnect_at", -1);
        underflow_at_ = arg_ll(args, "underflow_at", -1);
        hw_time_ = arg(args, "hw_time", "1") != "0";
        tx_file_ = arg(args, "tx_file");
        created_ = Clock::now();
    }

    ~TestDevice() override {
        if (rx_fp_) std::fclose(rx_fp_);
        if (tx_fp_) std::fclose(tx_fp_);
    }

    // Identification
    std::string getDriverKey() const override { return DRIVER; }
    std::string getHardwareKey() const override { return "leomodem-test-file-player"; }
    SoapySDR::Kwargs getHardwareInfo() const override {
        SoapySDR::Kwargs info;
        if (!file_.empty()) info["file"] = file_;
        if (!tx_file_.empty()) info["tx_file"] = tx_file_;
        return info;
    }

    // Channels
    size_t getNumChannels(const int) const override { return 1; }
    bool getFullDuplex(const int, const size_t) const override { return true; }

    // Antennas
    std::vector<std::string> listAntennas(const int dir, const size_t) const override {
        return {dir == SOAPY_SDR_RX ? "RX" : "TX"};
    }
    void setAntenna(const int dir, const size_t ch, const std::string &name) override {
        auto a = listAntennas(dir, ch);
        if (std::find(a.begin(), a.end(), name) == a.end())
            throw std::runtime_error(std::string(DRIVER) + ": no antenna '" + name + "'");
    }
    std::string getAntenna(const int dir, const size_t ch) const override { return listAntennas(dir, ch)[0]; }

    // Gains: two elements, LNA 0..40 dB and VGA 0..20 dB, and automatic gain.
    std::vector<std::string> listGains(const int, const size_t) const override { return {"LNA", "VGA"}; }
    bool hasGainMode(const int, const size_t) const override { return true; }
    void setGainMode(const int dir, const size_t, const bool automatic) override { agc_[d(dir)] = automatic; }
    bool getGainMode(const int dir, const size_t) const override { return agc_[d(dir)]; }
    SoapySDR::Range getGainRange(const int, const size_t, const std::string &name) const override {
        if (name == "LNA") return SoapySDR::Range(0, 40, 1);
        if (name == "VGA") return SoapySDR::Range(0, 20, 1);
        throw std::runtime_error(std::string(DRIVER) + ": no gain element '" + name + "'");
    }
    void setGain(const int dir, const size_t ch, const std::string &name, const double v) override {
        getGainRange(dir, ch, name);
        gain_[d(dir)][name == "LNA" ? 0 : 1] = v;
    }
    double getGain(const int dir, const size_t ch, const std::string &name) const override {
        getGainRange(dir, ch, name);
        return gain_[d(dir)][name == "LNA" ? 0 : 1];
    }

    // Frequency: one RF component, 1 MHz .. 6 GHz.
    std::vector<std::string> listFrequencies(const int, const size_t) const override { return {"RF"}; }
    SoapySDR::RangeList getFrequencyRange(const int, const size_t, const std::string &) const override {
        return {SoapySDR::Range(1e6, 6e9)};
    }
    SoapySDR::RangeList getFrequencyRange(const int, const size_t) const override { return {SoapySDR::Range(1e6, 6e9)}; }
    void setFrequency(const int dir, const size_t ch, const double f, const SoapySDR::Kwargs &) override {
        setFrequency(dir, ch, "RF", f, {});
    }
    void setFrequency(const int dir, const size_t, const std::string &name, const double f, const SoapySDR::Kwargs &) override {
        if (name != "RF") throw std::runtime_error(std::string(DRIVER) + ": no frequency component '" + name + "'");
        if (f < 1e6 || f > 6e9) throw std::runtime_error(std::string(DRIVER) + ": frequency out of range");
        std::lock_guard<std::mutex> lock(mu_);
        freq_[d(dir)] = f;
    }
    double getFrequency(const int dir, const size_t) const override {
        std::lock_guard<std::mutex> lock(mu_);
        return freq_[d(dir)];
    }
    double getFrequency(const int dir, const size_t ch, const std::string &) const override { return getFrequency(dir, ch); }

    // Sample rate and bandwidth
    SoapySDR::RangeList getSampleRateRange(const int, const size_t) const override { return {SoapySDR::Range(1e3, 20e6)}; }
    std::vector<double> listSampleRates(const int, const size_t) const override { return {250e3, 1e6, 2.4e6}; }
    void setSampleRate(const int dir, const size_t, const double r) override {
        if (!(r >= 1e3 && r <= 20e6)) throw std::runtime_error(std::string(DRIVER) + ": sample rate out of range");
        rate_[d(dir)] = r;
    }
    double getSampleRate(const int dir, const size_t) const override { return rate_[d(dir)]; }
    SoapySDR::RangeList getBandwidthRange(const int, const size_t) const override { return {SoapySDR::Range(1e3, 20e6)}; }
    void setBandwidth(const int dir, const size_t, const double bw) override { bw_[d(dir)] = bw; }
    double getBandwidth(const int dir, const size_t) const override { return bw_[d(dir)]; }

    // Time
    bool hasHardwareTime(const std::string &) const override { return hw_time_; }
    long long getHardwareTime(const std::string &) const override {
        return TIME_BASE_NS + std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - created_).count();
    }

    // Streams
    std::vector<std::string> getStreamFormats(const int, const size_t) const override {
        return {SOAPY_SDR_CF32, SOAPY_SDR_CS16};
    }
    std::string getNativeStreamFormat(const int, const size_t, double &fullScale) const override {
        fullScale = 1.0;
        return SOAPY_SDR_CF32;
    }

    SoapySDR::Stream *setupStream(const int dir, const std::string &format, const std::vector<size_t> &channels,
                                  const SoapySDR::Kwargs &) override {
        if (format != SOAPY_SDR_CF32 && format != SOAPY_SDR_CS16)
            throw std::runtime_error(std::string(DRIVER) + ": stream format " + format + " (CF32 or CS16)");
        for (size_t c : channels)
            if (c != 0) throw std::runtime_error(std::string(DRIVER) + ": no channel " + std::to_string(c));
        if (dir == SOAPY_SDR_RX) {
            if (file_.empty()) throw std::runtime_error(std::string(DRIVER) + ": RX needs file=PATH");
            if (rx_fp_) throw std::runtime_error(std::string(DRIVER) + ": RX stream already open");
            rx_fp_ = std::fopen(file_.c_str(), "rb");
            if (!rx_fp_) throw std::runtime_error(std::string(DRIVER) + ": cannot open " + file_);
        } else {
            if (tx_file_.empty()) throw std::runtime_error(std::string(DRIVER) + ": TX needs tx_file=PATH");
            if (tx_fp_) throw std::runtime_error(std::string(DRIVER) + ": TX stream already open");
            tx_fp_ = std::fopen(tx_file_.c_str(), "wb");
            if (!tx_fp_) throw std::runtime_error(std::string(DRIVER) + ": cannot create " + tx_file_);
        }
        auto *s = new Stream{dir, format == SOAPY_SDR_CS16};
        return reinterpret_cast<SoapySDR::Stream *>(s);
    }

    void closeStream(SoapySDR::Stream *handle) override {
        auto *s = reinterpret_cast<Stream *>(handle);
        FILE *&fp = s->direction == SOAPY_SDR_RX ? rx_fp_ : tx_fp_;
        if (fp) std::fclose(fp);
        fp = nullptr;
        delete s;
    }

    size_t getStreamMTU(SoapySDR::Stream *) const override { return MTU; }

    int activateStream(SoapySDR::Stream *handle, const int, const long long, const size_t) override {
        auto *s = reinterpret_cast<Stream *>(handle);
        s->active = true;
        if (s->direction == SOAPY_SDR_RX) {
            rx_t0_ = Clock::now();
            rx_pos_ = 0;
        } else {
            tx_t0_ = Clock::now();
            tx_pos_ = 0;
        }
        return 0;
    }

    int deactivateStream(SoapySDR::Stream *handle, const int, const long long) override {
        auto *s = reinterpret_cast<Stream *>(handle);
        s->active = false;
        if (s->direction == SOAPY_SDR_TX && tx_fp_) std::fflush(tx_fp_);
        return 0;
    }

    int readStream(SoapySDR::Stream *handle, void *const *buffs, const size_t numElems, int &flags,
                   long long &timeNs, const long timeoutUs) override {
        auto *s = reinterpret_cast<Stream *>(handle);
        flags = 0;
        const auto deadline = Clock::now() + std::chrono::microseconds(timeoutUs);
        if (!s->active || s->direction != SOAPY_SDR_RX || eof_) {
            if (eof_ && eof_error_) return SOAPY_SDR_STREAM_ERROR;
            std::this_thread::sleep_until(deadline);
            return SOAPY_SDR_TIMEOUT;
        }
        if (disconnect_at_ >= 0 && rx_pos_ >= disconnect_at_) {
            if (!disconnected_)
                SoapySDR::logf(SOAPY_SDR_ERROR, "%s: device disconnected (disconnect_at=%lld)", DRIVER, disconnect_at_);
            disconnected_ = true;
            return SOAPY_SDR_STREAM_ERROR;
        }
        if (overflow_at_ >= 0 && rx_pos_ == overflow_at_ && !overflowed_) {
            // The host was too slow: overflow_len samples were lost in the radio.
            overflowed_ = true;
            skip(overflow_len_);
            return SOAPY_SDR_OVERFLOW;
        }
        long long want = (long long)std::min(numElems, MTU);
        if (overflow_at_ >= 0 && !overflowed_ && rx_pos_ < overflow_at_) want = std::min(want, overflow_at_ - rx_pos_);
        if (disconnect_at_ >= 0) want = std::min(want, disconnect_at_ - rx_pos_);
        // Pacing: a sample exists once the wall clock has passed its time.
        auto due = rx_t0_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>((rx_pos_ + want) / rate_[1]));
        std::this_thread::sleep_until(std::min(due, deadline));
        long long avail = (long long)std::floor(std::chrono::duration<double>(Clock::now() - rx_t0_).count() * rate_[1]) - rx_pos_;
        long long n = std::min(want, avail);
        if (n <= 0) return SOAPY_SDR_TIMEOUT;
        long long got = read_file(s->cs16, buffs[0], n);
        if (got == 0) {
            eof_ = true;
            if (eof_error_) return SOAPY_SDR_STREAM_ERROR;
            std::this_thread::sleep_until(deadline);
            return SOAPY_SDR_TIMEOUT;
        }
        if (hw_time_) {
            flags |= SOAPY_SDR_HAS_TIME;
            timeNs = TIME_BASE_NS + (long long)std::llround(rx_pos_ * 1e9 / rate_[1]);
        }
        rx_pos_ += got;
        return (int)got;
    }

    int writeStream(SoapySDR::Stream *handle, const void *const *buffs, const size_t numElems, int &flags,
                    const long long, const long timeoutUs) override {
        auto *s = reinterpret_cast<Stream *>(handle);
        if (!s->active || s->direction != SOAPY_SDR_TX) return SOAPY_SDR_STREAM_ERROR;
        const bool end_burst = flags & SOAPY_SDR_END_BURST;
        flags = 0;
        if (numElems == 0) {
            if (end_burst) std::fflush(tx_fp_);
            return 0;
        }
        const double buffer_s = 0.1;
        auto now = Clock::now();
        double ahead = tx_pos_ / rate_[0] - std::chrono::duration<double>(now - tx_t0_).count();
        if (ahead < 0) {
            // The buffer ran dry: a gap went out on the air. Restart the clock.
            if (tx_pos_ > 0) pending_underflows_++;
            tx_t0_ = now - std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(tx_pos_ / rate_[0]));
        }
        // Room in the buffer: block until it drains enough, at most until the timeout.
        size_t n = std::min({numElems, MTU, (size_t)std::max(1.0, rate_[0] * buffer_s / 2)});
        auto due = tx_t0_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>((tx_pos_ + n) / rate_[0] - buffer_s));
        auto deadline = now + std::chrono::microseconds(timeoutUs);
        if (due > deadline) return SOAPY_SDR_TIMEOUT;
        std::this_thread::sleep_until(due);
        std::vector<float> out(2 * n);
        if (s->cs16) {
            const int16_t *in = static_cast<const int16_t *>(buffs[0]);
            for (size_t i = 0; i < 2 * n; i++) out[i] = in[i] / 32768.0f;
        } else {
            std::memcpy(out.data(), buffs[0], 2 * n * sizeof(float));
        }
        if (std::fwrite(out.data(), sizeof(float), 2 * n, tx_fp_) != 2 * n) return SOAPY_SDR_STREAM_ERROR;
        long long before = tx_pos_;
        tx_pos_ += n;
        if (underflow_at_ >= 0 && before < underflow_at_ && tx_pos_ >= underflow_at_) pending_underflows_++;
        if (end_burst && n == numElems) std::fflush(tx_fp_);
        return (int)n;
    }

    int readStreamStatus(SoapySDR::Stream *handle, size_t &chanMask, int &flags, long long &timeNs,
                         const long timeoutUs) override {
        auto *s = reinterpret_cast<Stream *>(handle);
        if (s->direction != SOAPY_SDR_TX) return SOAPY_SDR_NOT_SUPPORTED;
        flags = 0;
        if (pending_underflows_ > 0) {
            pending_underflows_--;
            chanMask = 1;
            timeNs = 0;
            return SOAPY_SDR_UNDERFLOW;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(std::min(timeoutUs, 10000L)));
        return SOAPY_SDR_TIMEOUT;
    }

  private:
    static int d(int dir) { return dir == SOAPY_SDR_RX ? 1 : 0; }

    // Reads up to n samples of the file into buf (host format); 0 at the end.
    long long read_file(bool host_cs16, void *buf, long long n) {
        long long got = 0;
        const size_t in_bytes = file_cs16_ ? 4 : 8;
        std::vector<unsigned char> raw(n * in_bytes);
        bool rewound = false;
        while (got < n) {
            size_t r = std::fread(raw.data() + got * in_bytes, in_bytes, n - got, rx_fp_);
            got += (long long)r;
            if (r > 0) rewound = false;
            if (got < n) {
                if (!loop_ || rewound) break; // end of file (or an empty file)
                std::rewind(rx_fp_);
                rewound = true;
            }
        }
        for (long long i = 0; i < 2 * got; i++) {
            float v;
            if (file_cs16_) {
                int16_t x;
                std::memcpy(&x, raw.data() + 2 * i, 2);
                v = x / 32768.0f;
            } else {
                std::memcpy(&v, raw.data() + 4 * i, 4);
            }
            if (host_cs16) {
                double q = std::nearbyint((double)v * 32768.0);
                static_cast<int16_t *>(buf)[i] = (int16_t)std::max(-32768.0, std::min(32767.0, q));
            } else {
                static_cast<float *>(buf)[i] = v;
            }
        }
        return got;
    }

    // Drops n samples of the file (they were lost), keeping the stream clock.
    void skip(long long n) {
        const size_t in_bytes = file_cs16_ ? 4 : 8;
        std::vector<unsigned char> raw(in_bytes * 4096);
        long long left = n;
        while (left > 0) {
            size_t k = std::fread(raw.data(), in_bytes, (size_t)std::min<long long>(left, 4096), rx_fp_);
            if (k == 0) {
                if (!loop_) break;
                std::rewind(rx_fp_);
                continue;
            }
            left -= (long long)k;
        }
        rx_pos_ += n;
        // They were lost because the host was late: their time has passed already.
        rx_t0_ -= std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(n / rate_[1]));
    }

    SoapySDR::Kwargs args_;
    std::string file_, tx_file_;
    bool file_cs16_ = false, loop_ = false, eof_error_ = false, hw_time_ = true;
    long long overflow_at_, overflow_len_, disconnect_at_, underflow_at_;
    double rate_[2], freq_[2], bw_[2];
    double gain_[2][2] = {{0, 0}, {0, 0}};
    bool agc_[2] = {false, false};
    mutable std::mutex mu_;
    Clock::time_point created_, rx_t0_, tx_t0_;
    long long rx_pos_ = 0, tx_pos_ = 0;
    bool overflowed_ = false, eof_ = false, disconnected_ = false;
    int pending_underflows_ = 0;
    FILE *rx_fp_ = nullptr;
    FILE *tx_fp_ = nullptr;
};

SoapySDR::KwargsList find_test(const SoapySDR::Kwargs &args) {
    auto it = args.find("driver");
    if (it != args.end() && it->second != DRIVER) return {};
    it = args.find("serial");
    if (it != args.end() && it->second != "leomodem-test-0") return {};
    SoapySDR::Kwargs dev = args;
    dev["driver"] = DRIVER;
    dev["label"] = "leomodem test device (file player)";
    dev["serial"] = "leomodem-test-0";
    return {dev};
}

SoapySDR::Device *make_test(const SoapySDR::Kwargs &args) { return new TestDevice(args); }

SoapySDR::Registry registration(DRIVER, &find_test, &make_test, SOAPY_SDR_ABI_VERSION);

} // namespace
