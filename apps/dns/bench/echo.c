// The floor of any UDP server on this machine, without Node: answers every datagram with itself,
// QR bit set, with the system calls our addon makes (epoll, then recvmmsg of up to 32 and one
// sendmmsg of the replies, up to 8 batches per wake-up) or, with --per-datagram, NSD's (a
// recvfrom and a sendto per datagram, up to 100 per wake-up). What this costs per query is the
// kernel's part of every server's cost; the bench prints it beside NSD's and ours.
// Usage: echo <port> [--per-datagram]     (built by bench/run.sh with the C compiler npm install uses)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define BATCH 32
#define SLOT 65536

static char data[BATCH][SLOT];

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int per_datagram = argc > 2 && strcmp(argv[2], "--per-datagram") == 0;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(argv[1]));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    perror("echo: bind");
    return 1;
  }
  struct mmsghdr in[BATCH], out[BATCH];
  struct iovec iov[BATCH], oiov[BATCH];
  struct sockaddr_storage names[BATCH];
  memset(in, 0, sizeof in);
  memset(out, 0, sizeof out);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = data[i];
    iov[i].iov_len = SLOT;
    in[i].msg_hdr.msg_name = &names[i];
    in[i].msg_hdr.msg_iov = &iov[i];
    in[i].msg_hdr.msg_iovlen = 1;
    out[i].msg_hdr.msg_iov = &oiov[i];
    out[i].msg_hdr.msg_iovlen = 1;
  }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  for (;;) {
    struct epoll_event got;
    if (epoll_wait(ep, &got, 1, 1000) <= 0) continue;
    if (per_datagram) {
      for (int k = 0; k < 100; k++) {
        struct sockaddr_storage from;
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(fd, data[0], SLOT, MSG_DONTWAIT, (struct sockaddr *)&from, &len);
        if (n < 0) break;
        if (n < 12) continue;
        data[0][2] |= (char)0x80;
        sendto(fd, data[0], (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&from, len);
      }
      continue;
    }
    for (int round = 0; round < 8; round++) {
      for (int i = 0; i < BATCH; i++) {
        in[i].msg_hdr.msg_namelen = sizeof names[i];
        in[i].msg_hdr.msg_flags = 0;
      }
      int n = recvmmsg(fd, in, BATCH, MSG_DONTWAIT, NULL);
      if (n <= 0) break;
      int m = 0;
      for (int i = 0; i < n; i++) {
        if (in[i].msg_len < 12) continue;
        data[i][2] |= (char)0x80;
        oiov[m].iov_base = data[i];
        oiov[m].iov_len = in[i].msg_len;
        out[m].msg_hdr.msg_name = &names[i];
        out[m].msg_hdr.msg_namelen = in[i].msg_hdr.msg_namelen;
        m++;
      }
      for (int off = 0; off < m;) {
        int s = sendmmsg(fd, out + off, (unsigned)(m - off), MSG_DONTWAIT);
        if (s <= 0) break;
        off += s;
      }
      if (n < BATCH) break;
    }
  }
}
