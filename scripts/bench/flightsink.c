/*
 * flightsink: the generator-only control of bench-fairness.sh. It answers hellorush as a proxy
 * would answer it on the wire (accept, read the ClientHello, write a first flight of the same size,
 * close) but does no TLS, at most RATE times a second: the 64 closed loops of the flood then wait
 * on it as they wait on a proxy serving RATE handshakes a second, and cost the generator core what
 * they cost it there. Tenant B's rate through the real proxy during this flood shows what the
 * flood's generator alone takes from B on a shared load core.
 *
 * Its connections end as a proxy's do under that flood: the client resets after reading the flight.
 *
 * WORKERS processes (default 64, the flood's concurrency) share the listening socket and the rate,
 * so a connection waiting for its client's reset does not hold up the others.
 *
 * usage: flightsink -p PORT -r RATE [-b FLIGHT_BYTES] [-d SECONDS] [-w WORKERS]   (on 127.0.0.1)
 * prints: served=N secs=S rate=R
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int port = 0, bytes = 1200, secs = 30, workers = 64, c, on = 1;
    double rate = 0;
    while ((c = getopt(argc, argv, "p:r:b:d:w:")) != -1) {
        switch (c) {
        case 'p': port = atoi(optarg); break;
        case 'r': rate = atof(optarg); break;
        case 'b': bytes = atoi(optarg); break;
        case 'd': secs = atoi(optarg); break;
        case 'w': workers = atoi(optarg); break;
        default: return 2;
        }
    }
    if (port <= 0 || rate <= 0 || bytes < 6 || bytes > 16384 || secs < 1 || workers < 1) {
        fprintf(stderr,
                "usage: flightsink -p PORT -r RATE [-b FLIGHT_BYTES] [-d SECONDS] [-w WORKERS]\n");
        return 2;
    }
    /* A handshake record header, then filler: hellorush checks only the first byte. */
    unsigned char flight[16384], buf[16384];
    memset(flight, 0x2a, sizeof flight);
    flight[0] = 0x16, flight[1] = 0x03, flight[2] = 0x03;
    flight[3] = (unsigned char)((bytes - 5) >> 8), flight[4] = (unsigned char)(bytes - 5);
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 1024) != 0) {
        perror("flightsink");
        return 1;
    }
    struct timeval limit = {.tv_sec = 1};
    /* accept waits at most that long too, so the sink ends on time once the flood has stopped */
    setsockopt(ls, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    unsigned long *served = mmap(NULL, sizeof *served, PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    double start = now(), end = start + secs, interval = workers / rate;
    for (int w = 0; w < workers; w++) {
        if (fork() != 0) continue;
        double next = start + interval * w / workers;
        while (now() < end) {
            double t = now();
            if (next > t) {
                struct timespec d = {(time_t)(next - t), (long)((next - t - (time_t)(next - t)) * 1e9)};
                nanosleep(&d, NULL);
            } else if (t - next > 1) {
                next = t; /* behind by over a second: no burst to catch up */
            }
            next += interval;
            int fd = accept(ls, NULL, NULL);
            if (fd < 0) continue;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
            if (read(fd, buf, sizeof buf) > 0 && write(fd, flight, bytes) == bytes) {
                __atomic_add_fetch(served, 1, __ATOMIC_RELAXED);
                /* The client leaves first, as it leaves a proxy (a reset): closing here first
                   would add a FIN and its ACK to every connection the generator handles. */
                while (read(fd, buf, sizeof buf) > 0) {}
            }
            close(fd);
        }
        _exit(0);
    }
    while (wait(NULL) > 0) {}
    double took = now() - start;
    printf("served=%lu secs=%.1f rate=%.1f\n", *served, took, *served / took);
    return 0;
}
