/*
 * hellorush: the cheapest full-handshake flood a client can send. It builds one TLS 1.3
 * ClientHello for SNI (X25519 key share, as browsers offer) once, in memory, then each of
 * CONCURRENCY processes loops: connect, send those bytes, read the server's first flight (the
 * part that costs the server a key exchange and a signature), close. The client does no crypto
 * per connection, so one generator core can keep a proxy core busy with handshakes, which a
 * closed loop of real handshakes (tlsconn) cannot on a 2-core box.
 *
 * usage: hellorush -n SNI -p PORT [-c CONCURRENCY] [-d SECONDS] [-r RATE]   (to 127.0.0.1)
 * prints: conns=N errors=E secs=S rate=R p50_us=0   (rate = server first flights per second)
 * -r RATE caps the flood at RATE connections a second in all (each process starts one every
 * CONCURRENCY/RATE seconds, never catching up more than a second it fell behind), so proxies can
 * be compared at the same flood rate, not only at whatever rate each serves a closed loop.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared { unsigned long conns, errors; };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* The ClientHello a fresh OpenSSL client would send, read out of a memory BIO. */
static int build_hello(const char *sni, unsigned char *out, int cap) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = SSL_new(ctx);
    BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, rbio, wbio);
    SSL_set_tlsext_host_name(ssl, sni);
    SSL_set_min_proto_version(ssl, TLS1_3_VERSION);
    SSL_set1_groups_list(ssl, "X25519");
    SSL_connect(ssl); /* wants to read: the hello is in wbio */
    int n = BIO_read(wbio, out, cap);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return n;
}

static int one(const struct sockaddr_in *sa, const unsigned char *hello, int len) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1, ok = 0;
    struct timeval limit = {.tv_sec = 5};
    unsigned char buf[16384];
    if (fd < 0) return 0;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0 && write(fd, hello, len) == len) {
        /* ServerHello (plain record 0x16) first, the encrypted rest right behind it */
        ssize_t n = read(fd, buf, sizeof buf);
        ok = n > 5 && buf[0] == 0x16;
    }
    struct linger lg = {1, 0}; /* reset: leave no TIME_WAIT behind on the generator */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    return ok;
}

int main(int argc, char **argv) {
    const char *sni = NULL;
    int port = 0, conc = 1, secs = 10, c;
    double rate = 0;
    while ((c = getopt(argc, argv, "n:p:c:d:r:")) != -1) {
        switch (c) {
        case 'n': sni = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'c': conc = atoi(optarg); break;
        case 'd': secs = atoi(optarg); break;
        case 'r': rate = atof(optarg); break;
        default: return 2;
        }
    }
    if (!sni || port <= 0 || conc < 1 || secs < 1 || rate < 0) {
        fprintf(stderr, "usage: hellorush -n SNI -p PORT [-c CONCURRENCY] [-d SECONDS] [-r RATE]\n");
        return 2;
    }
    unsigned char hello[4096];
    int len = build_hello(sni, hello, sizeof hello);
    if (len <= 0) { fprintf(stderr, "cannot build a ClientHello\n"); return 1; }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    signal(SIGPIPE, SIG_IGN);
    double start = now(), end = start + secs;
    for (int i = 0; i < conc; i++) {
        if (fork() != 0) continue;
        double interval = rate > 0 ? conc / rate : 0, next = start + interval * i / conc;
        while (now() < end) {
            if (interval > 0) {
                double t = now();
                if (next > t) {
                    struct timespec d = {(time_t)(next - t), (long)((next - t - (time_t)(next - t)) * 1e9)};
                    nanosleep(&d, NULL);
                } else if (t - next > 1) {
                    next = t; /* fell behind by over a second: no burst to catch up */
                }
                next += interval;
                if (now() >= end) break;
            }
            if (one(&sa, hello, len)) __atomic_add_fetch(&sh->conns, 1, __ATOMIC_RELAXED);
            else __atomic_add_fetch(&sh->errors, 1, __ATOMIC_RELAXED);
        }
        _exit(0);
    }
    while (wait(NULL) > 0) {}
    double took = now() - start;
    printf("conns=%lu errors=%lu secs=%.1f rate=%.1f p50_us=0\n", sh->conns, sh->errors, took,
           sh->conns / took);
    return sh->errors ? 1 : 0;
}
