// UDP in batches for the DNS server: a non-blocking socket watched by a libuv poll handle on
// Node's own loop. When it is readable, recvmmsg(2) takes up to `batch` datagrams at once into a
// buffer JavaScript shares, one JS call answers them all (it puts a reply, or nothing, per slot),
// and sendmmsg(2) sends the replies back to the addresses they came from. node:dgram and
// udp_wrap pay one recvmsg, one sendto and one JS callback per datagram; here those are paid per
// batch, as BIND does with recvmmsg (bench/RESULTS.md in apps/dns).
//
// JavaScript side (src/index.ts): open(host, port, state, onBatch) -> external | -errno, where
// state = { data: Buffer(batch * slot), lens: Int32Array(batch), ports: Int32Array(batch),
// addrs: string[], replies: (Buffer | null)[] } and onBatch(count) is called with `this` =
// state. lens[i] is -1 for a datagram larger than its slot (truncated by the kernel).
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_BATCH 64
// Batches taken per readable event before giving the loop back to other handles.
#define MAX_ROUNDS 8

typedef struct {
  napi_env env;
  int fd;
  int family;
  int closing;
  int closed;     // the poll handle is closed and the socket with it
  int finalized;  // the JS external is gone: nothing can call in any more
  uv_poll_t poll;
  unsigned batch;
  size_t slot;
  uint8_t *data;
  int32_t *lens;
  int32_t *ports;
  napi_ref state_ref;
  napi_ref addrs_ref;
  napi_ref replies_ref;
  napi_ref cb_ref;
  napi_ref close_cb_ref;
  napi_async_context actx;
  double dropped;
  struct mmsghdr in[MAX_BATCH];
  struct iovec iov[MAX_BATCH];
  struct sockaddr_storage names[MAX_BATCH];
  struct mmsghdr out[MAX_BATCH];
  struct iovec oiov[MAX_BATCH];
} udp_batch;

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "udp-batch: " #call " failed");     \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static int parse_address(const char *host, unsigned port, int family, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof(*ss));
  struct in_addr a4;
  struct in6_addr a6;
  if (inet_pton(AF_INET, host, &a4) == 1) {
    if (family == AF_INET6) {
      // A v4 peer of a dual-stack v6 socket: its v4-mapped form.
      struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
      s6->sin6_family = AF_INET6;
      s6->sin6_port = htons(port);
      s6->sin6_addr.s6_addr[10] = 0xff;
      s6->sin6_addr.s6_addr[11] = 0xff;
      memcpy(&s6->sin6_addr.s6_addr[12], &a4, 4);
      *len = sizeof(*s6);
      return 0;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    s4->sin_addr = a4;
    *len = sizeof(*s4);
    return 0;
  }
  if (inet_pton(AF_INET6, host, &a6) == 1 && family != AF_INET) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    s6->sin6_addr = a6;
    *len = sizeof(*s6);
    return 0;
  }
  return -EINVAL;
}

// The address as text and the port, as node:dgram gives them in rinfo.
static unsigned format_address(const struct sockaddr_storage *ss, char *text, size_t size) {
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &s6->sin6_addr, text, size);
    return ntohs(s6->sin6_port);
  }
  const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
  inet_ntop(AF_INET, &s4->sin_addr, text, size);
  return ntohs(s4->sin_port);
}

static unsigned port_of(const struct sockaddr_storage *ss) {
  if (ss->ss_family == AF_INET6) return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
  return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static int same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family) return 0;
  if (a->ss_family == AF_INET)
    return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
  return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

// Replies that cannot go out (a full send buffer, a peer that vanished) are dropped, as a
// datagram may be; the client retries. They are counted.
static void send_all(udp_batch *u, int count) {
  int off = 0;
  while (off < count) {
    int s = sendmmsg(u->fd, u->out + off, count - off, MSG_DONTWAIT);
    if (s < 0) {
      if (errno == EINTR) continue;
      u->dropped++;
      off++;
      continue;
    }
    off += s;
  }
}

static void report_exception(napi_env env) {
  napi_value err;
  if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  udp_batch *u = handle->data;
  if (u->closing || status < 0) return;
  napi_env env = u->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value state, cb, addrs, replies;
  napi_get_reference_value(env, u->state_ref, &state);
  napi_get_reference_value(env, u->cb_ref, &cb);
  napi_get_reference_value(env, u->addrs_ref, &addrs);
  napi_get_reference_value(env, u->replies_ref, &replies);
  for (int round = 0; round < MAX_ROUNDS && !u->closing; round++) {
    for (unsigned i = 0; i < u->batch; i++) {
      u->in[i].msg_hdr.msg_namelen = sizeof(u->names[i]);
      u->in[i].msg_hdr.msg_flags = 0;
    }
    int n = recvmmsg(u->fd, u->in, u->batch, MSG_DONTWAIT, NULL);
    if (n <= 0) break;
    napi_value last = NULL;
    int last_at = -1;
    for (int i = 0; i < n; i++) {
      u->lens[i] = (u->in[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : (int32_t)u->in[i].msg_len;
      char text[INET6_ADDRSTRLEN];
      if (last != NULL && same_host(&u->names[last_at], &u->names[i])) {
        u->ports[i] = (int32_t)port_of(&u->names[i]);
      } else {
        u->ports[i] = (int32_t)format_address(&u->names[i], text, sizeof(text));
        napi_create_string_latin1(env, text, NAPI_AUTO_LENGTH, &last);
        last_at = i;
      }
      napi_set_element(env, addrs, i, last);
    }
    napi_value argv[1], result;
    napi_create_uint32(env, (uint32_t)n, &argv[0]);
    if (napi_make_callback(env, u->actx, state, cb, 1, argv, &result) != napi_ok) {
      report_exception(env);
      break;
    }
    if (u->closing) break;
    int m = 0;
    for (int i = 0; i < n; i++) {
      napi_value r;
      bool is_buffer = false;
      if (napi_get_element(env, replies, i, &r) != napi_ok) continue;
      if (napi_is_buffer(env, r, &is_buffer) != napi_ok || !is_buffer) continue;
      void *bytes;
      size_t length;
      if (napi_get_buffer_info(env, r, &bytes, &length) != napi_ok) continue;
      struct msghdr *h = &u->out[m].msg_hdr;
      u->oiov[m].iov_base = bytes;
      u->oiov[m].iov_len = length;
      h->msg_name = &u->names[i];
      h->msg_namelen = u->in[i].msg_hdr.msg_namelen;
      h->msg_iov = &u->oiov[m];
      h->msg_iovlen = 1;
      h->msg_control = NULL;
      h->msg_controllen = 0;
      h->msg_flags = 0;
      m++;
    }
    if (m) send_all(u, m);
    if ((unsigned)n < u->batch) break;
  }
  napi_close_handle_scope(env, scope);
}

// The memory goes when both the socket is closed and JavaScript has dropped its handle.
static void finalize(napi_env env, void *data, void *hint) {
  udp_batch *u = data;
  u->finalized = 1;
  if (u->closed) free(u);
}

static void on_closed(uv_handle_t *handle);

// A socket that cannot be handed to JavaScript after its poll handle exists: closing the handle
// closes the socket and, as nothing can reach it any more, frees it (on_closed).
static void abandon(udp_batch *u) {
  u->finalized = 1;
  u->closing = 1;
  uv_poll_stop(&u->poll);
  uv_close((uv_handle_t *)&u->poll, on_closed);
}

#define CHECK_OR_ABANDON(call)                                        \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      abandon(u);                                                     \
      napi_throw_error(env, NULL, "udp-batch: " #call " failed");     \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char host[64];
  size_t host_len;
  uint32_t port;
  CHECK(napi_get_value_string_latin1(env, argv[0], host, sizeof(host), &host_len));
  CHECK(napi_get_value_uint32(env, argv[1], &port));
  // Everything JavaScript hands over is read before the socket exists, so a failure here
  // leaves nothing behind.
  napi_value state = argv[2], data, lens, ports, addrs, replies, ret;
  CHECK(napi_get_named_property(env, state, "data", &data));
  CHECK(napi_get_named_property(env, state, "lens", &lens));
  CHECK(napi_get_named_property(env, state, "ports", &ports));
  CHECK(napi_get_named_property(env, state, "addrs", &addrs));
  CHECK(napi_get_named_property(env, state, "replies", &replies));
  void *data_bytes, *lens_bytes, *ports_bytes;
  size_t data_len, lens_len, ports_len;
  napi_typedarray_type t;
  CHECK(napi_get_buffer_info(env, data, &data_bytes, &data_len));
  CHECK(napi_get_typedarray_info(env, lens, &t, &lens_len, &lens_bytes, NULL, NULL));
  CHECK(napi_get_typedarray_info(env, ports, &t, &ports_len, &ports_bytes, NULL, NULL));
  if (lens_len == 0 || lens_len > MAX_BATCH || ports_len < lens_len || data_len < lens_len) {
    napi_throw_range_error(env, NULL, "udp-batch: batch must be 1..64 slots");
    return NULL;
  }
  napi_value name;
  CHECK(napi_create_string_utf8(env, "sstt:udp-batch", NAPI_AUTO_LENGTH, &name));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  struct sockaddr_storage ss;
  socklen_t ss_len;
  if (port > 65535 || parse_address(host, port, AF_UNSPEC, &ss, &ss_len) < 0) {
    CHECK(napi_create_int32(env, -EINVAL, &ret));
    return ret;
  }
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&ss, ss_len) < 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    CHECK(napi_create_int32(env, -e, &ret));
    return ret;
  }
  udp_batch *u = calloc(1, sizeof(udp_batch));
  int r = u ? uv_poll_init_socket(loop, &u->poll, fd) : UV_ENOMEM;
  if (r != 0) {
    // Not expected for a fresh socket; give the error back like a bind failure.
    close(fd);
    free(u);
    CHECK(napi_create_int32(env, r, &ret));
    return ret;
  }
  u->poll.data = u;
  u->env = env;
  u->fd = fd;
  u->family = ss.ss_family;
  u->batch = (unsigned)lens_len;
  u->slot = data_len / lens_len;
  u->data = data_bytes;
  u->lens = lens_bytes;
  u->ports = ports_bytes;
  for (unsigned i = 0; i < u->batch; i++) {
    u->iov[i].iov_base = u->data + i * u->slot;
    u->iov[i].iov_len = u->slot;
    u->in[i].msg_hdr.msg_name = &u->names[i];
    u->in[i].msg_hdr.msg_iov = &u->iov[i];
    u->in[i].msg_hdr.msg_iovlen = 1;
  }
  // From here on the poll handle owns the socket: every way out either hands it to JavaScript
  // or abandons it, which closes the socket and frees the rest.
  CHECK_OR_ABANDON(napi_create_reference(env, state, 1, &u->state_ref));
  CHECK_OR_ABANDON(napi_create_reference(env, addrs, 1, &u->addrs_ref));
  CHECK_OR_ABANDON(napi_create_reference(env, replies, 1, &u->replies_ref));
  CHECK_OR_ABANDON(napi_create_reference(env, argv[3], 1, &u->cb_ref));
  CHECK_OR_ABANDON(napi_async_init(env, state, name, &u->actx));
  r = uv_poll_start(&u->poll, UV_READABLE, on_readable);
  if (r != 0) {
    abandon(u);
    CHECK(napi_create_int32(env, r, &ret));
    return ret;
  }
  CHECK_OR_ABANDON(napi_create_external(env, u, finalize, NULL, &ret));
  return ret;
}

static udp_batch *unwrap(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return p;
}

// send(socket, buffer, port, address) -> 0 | -errno: one reply outside a batch (answers that
// waited for a forwarder).
static napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], ret;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_batch *u = unwrap(env, argv[0]);
  void *bytes;
  size_t length;
  uint32_t port;
  char host[64];
  size_t host_len;
  CHECK(napi_get_buffer_info(env, argv[1], &bytes, &length));
  CHECK(napi_get_value_uint32(env, argv[2], &port));
  CHECK(napi_get_value_string_latin1(env, argv[3], host, sizeof(host), &host_len));
  int result = -EBADF;
  struct sockaddr_storage ss;
  socklen_t ss_len;
  if (u && !u->closing && !u->closed) {
    result = parse_address(host, port, u->family, &ss, &ss_len);
    if (result == 0 && sendto(u->fd, bytes, length, MSG_DONTWAIT, (struct sockaddr *)&ss, ss_len) < 0) result = -errno;
    if (result < 0) u->dropped++;
  }
  CHECK(napi_create_int32(env, result, &ret));
  return ret;
}

// address(socket) -> { address, family, port } as net's AddressInfo.
static napi_value Address(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], ret, v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_batch *u = unwrap(env, argv[0]);
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (!u || u->closed || getsockname(u->fd, (struct sockaddr *)&ss, &len) < 0) {
    napi_throw_error(env, "EBADF", "udp-batch: socket is closed");
    return NULL;
  }
  char text[INET6_ADDRSTRLEN];
  unsigned port = format_address(&ss, text, sizeof(text));
  CHECK(napi_create_object(env, &ret));
  CHECK(napi_create_string_latin1(env, text, NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, ret, "address", v));
  CHECK(napi_create_string_latin1(env, ss.ss_family == AF_INET6 ? "IPv6" : "IPv4", NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, ret, "family", v));
  CHECK(napi_create_uint32(env, port, &v));
  CHECK(napi_set_named_property(env, ret, "port", v));
  return ret;
}

// dropped(socket) -> replies the kernel refused (counted, not retried).
static napi_value Dropped(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], ret;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_batch *u = unwrap(env, argv[0]);
  CHECK(napi_create_double(env, u ? u->dropped : 0, &ret));
  return ret;
}

static void on_closed(uv_handle_t *handle) {
  udp_batch *u = handle->data;
  napi_env env = u->env;
  close(u->fd);
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb = NULL, state, result;
  if (u->close_cb_ref) napi_get_reference_value(env, u->close_cb_ref, &cb);
  // Only a socket handed to JavaScript can have a close callback, so it has everything below.
  napi_get_reference_value(env, u->state_ref, &state);
  if (cb && napi_make_callback(env, u->actx, state, cb, 0, NULL, &result) != napi_ok) report_exception(env);
  napi_close_handle_scope(env, scope);
  // A socket abandoned half-made in Open has only some of these.
  if (u->actx) napi_async_destroy(env, u->actx);
  if (u->state_ref) napi_delete_reference(env, u->state_ref);
  if (u->addrs_ref) napi_delete_reference(env, u->addrs_ref);
  if (u->replies_ref) napi_delete_reference(env, u->replies_ref);
  if (u->cb_ref) napi_delete_reference(env, u->cb_ref);
  if (u->close_cb_ref) napi_delete_reference(env, u->close_cb_ref);
  u->closed = 1;
  if (u->finalized) free(u);
}


// close(socket, callback): stops reading, closes the socket, then calls back once.
static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_batch *u = unwrap(env, argv[0]);
  if (!u || u->closing) return NULL;
  u->closing = 1;
  if (argc > 1) CHECK(napi_create_reference(env, argv[1], 1, &u->close_cb_ref));
  uv_poll_stop(&u->poll);
  uv_close((uv_handle_t *)&u->poll, on_closed);
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, Open, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, Send, NULL, NULL, NULL, napi_default, NULL},
      {"address", NULL, Address, NULL, NULL, NULL, napi_default, NULL},
      {"dropped", NULL, Dropped, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, Close, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
