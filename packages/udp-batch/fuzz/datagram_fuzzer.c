// libFuzzer harness for the addon's datagram path (src/udp_batch.c), built with ASan and UBSan.
//
// The addon is compiled into this file as it is. What it talks to is replaced: recvmmsg(2)
// hands it datagrams made from the fuzz input (any length, truncated or not, from IPv4, IPv6 or
// v4-mapped senders, several from one host), the "JavaScript" batch callback checks what it was
// handed (count, lens, ports, the sender's address text) and answers each slot with a reply
// buffer, nothing, a value that is not a buffer, or a hole, and may throw or close the socket
// mid-batch; sendmmsg(2) checks that exactly those replies go out, to their own senders, and
// fails, stalls or is interrupted as the input says. The Node-API and libuv calls are small
// fakes below (libuv's close callback runs on the next "tick", as libuv does). Open and bind are
// real: one UDP socket on loopback per input, never sent to (sendto is faked too).
//
// Build and run: see fuzz/fuzz.ts (npm run fuzz -w @sstt/udp-batch) and docs/fuzzing.md.
#define recvmmsg sstt_fuzz_recvmmsg
#define sendmmsg sstt_fuzz_sendmmsg
#define sendto sstt_fuzz_sendto
#include "../src/udp_batch.c"
#undef recvmmsg
#undef sendmmsg
#undef sendto

#include <stdio.h>

#define EXPECT(cond)                                                            \
  do {                                                                          \
    if (!(cond)) {                                                              \
      fprintf(stderr, "datagram_fuzzer: %s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                  \
    }                                                                           \
  } while (0)

// ---- the fuzz input, read a byte at a time (zeros once it runs out) ----

static const uint8_t *input;
static size_t input_left;

static uint8_t byte(void) {
  if (input_left == 0) return 0;
  input_left--;
  return *input++;
}

static unsigned u16(void) {
  unsigned hi = byte();
  return (hi << 8) | byte();
}

// ---- fake JavaScript values (all freed at the end of each input) ----

typedef enum { V_UNDEFINED, V_NUMBER, V_STRING, V_BUFFER, V_INT32ARRAY, V_ARRAY, V_OBJECT, V_EXTERNAL, V_FUNCTION } kind_t;

struct napi_env__ {
  int unused;
};

struct napi_value__ {
  kind_t kind;
  double number;
  char text[INET6_ADDRSTRLEN + 1];
  uint8_t *bytes;
  size_t length;  // buffer: octets; typed array: elements
  napi_value items[MAX_BATCH];
  void *external;
  napi_finalize finalize;
  struct napi_value__ *next;
};

struct napi_ref__ {
  napi_value value;
};

struct napi_async_context__ {
  int unused;
};

struct napi_callback_info__ {
  size_t argc;
  napi_value argv[4];
};

static struct napi_env__ the_env;
static napi_value values;  // every value made for this input
static int pending_exception;
static int fatal_exceptions;

static napi_value make(kind_t kind) {
  napi_value v = calloc(1, sizeof(*v));
  EXPECT(v != NULL);
  v->kind = kind;
  v->next = values;
  values = v;
  return v;
}

static void free_values(void) {
  while (values) {
    napi_value next = values->next;
    if (values->kind == V_BUFFER || values->kind == V_INT32ARRAY) free(values->bytes);
    free(values);
    values = next;
  }
}

static napi_value state, data_v, lens_v, ports_v, addrs_v, replies_v, batch_cb, close_cb;

// ---- what recvmmsg handed over, what the callback answered, what sendmmsg must see ----

static int sock_family;
static struct {
  char text[INET6_ADDRSTRLEN];
  unsigned port;
  int32_t len;
} expected_in[MAX_BATCH];
static int expected_count;  // datagrams of the batch now being handed to the callback
static struct {
  const void *bytes;
  size_t length;
  struct sockaddr_storage to;
} expected_out[MAX_BATCH];
static int expected_out_count, out_seen;
static int close_in_callback;

int sstt_fuzz_recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags, struct timespec *timeout) {
  EXPECT(flags & MSG_DONTWAIT);
  EXPECT(vlen >= 1 && vlen <= MAX_BATCH);
  unsigned want = byte() % (vlen + 2);
  if (want == 0 || input_left == 0) {
    errno = (want & 1) ? EINTR : EAGAIN;
    return -1;
  }
  if (want > vlen) want = vlen;
  for (unsigned i = 0; i < want; i++) {
    struct msghdr *h = &vec[i].msg_hdr;
    EXPECT(h->msg_iovlen == 1 && h->msg_iov != NULL && h->msg_name != NULL);
    EXPECT(h->msg_namelen >= sizeof(struct sockaddr_in6));
    uint8_t how = byte();
    struct sockaddr_storage *ss = h->msg_name;
    if ((how & 4) && i > 0) {
      // Another datagram from the sender of the previous one (the address text is reused).
      memcpy(ss, vec[i - 1].msg_hdr.msg_name, sizeof(*ss));
      h->msg_namelen = vec[i - 1].msg_hdr.msg_namelen;
    } else if (sock_family == AF_INET) {
      struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
      memset(s4, 0, sizeof(*s4));
      s4->sin_family = AF_INET;
      for (int k = 0; k < 4; k++) ((uint8_t *)&s4->sin_addr)[k] = byte();
      h->msg_namelen = sizeof(*s4);
    } else {
      struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
      memset(s6, 0, sizeof(*s6));
      s6->sin6_family = AF_INET6;
      if (how & 2) {
        // An IPv4 sender on the dual-stack socket: ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
        s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
        for (int k = 12; k < 16; k++) s6->sin6_addr.s6_addr[k] = byte();
      } else {
        for (int k = 0; k < 16; k++) s6->sin6_addr.s6_addr[k] = byte();
      }
      s6->sin6_scope_id = byte();
      h->msg_namelen = sizeof(*s6);
    }
    unsigned port = u16();
    if (ss->ss_family == AF_INET) ((struct sockaddr_in *)ss)->sin_port = htons(port);
    else ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
    // The datagram: as the kernel does, the slot gets what fits and MSG_TRUNC says the rest was cut.
    size_t length = (how & 8) ? u16() : byte();
    size_t room = h->msg_iov->iov_len;
    size_t copied = length < room ? length : room;
    uint8_t *slot = h->msg_iov->iov_base;
    for (size_t k = 0; k < copied; k++) slot[k] = byte();
    h->msg_flags = length > room ? MSG_TRUNC : 0;
    vec[i].msg_len = (unsigned)copied;
    expected_in[i].len = length > room ? -1 : (int32_t)copied;
    expected_in[i].port = port;
    if (ss->ss_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)ss)->sin_addr, expected_in[i].text, INET6_ADDRSTRLEN);
    else inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ss)->sin6_addr, expected_in[i].text, INET6_ADDRSTRLEN);
  }
  expected_count = (int)want;
  return (int)want;
}

static int name_equal(const struct sockaddr_storage *a, socklen_t alen, const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family) return 0;
  if (a->ss_family == AF_INET) return alen == sizeof(struct sockaddr_in) && memcmp(a, b, sizeof(struct sockaddr_in)) == 0;
  return alen == sizeof(struct sockaddr_in6) && memcmp(a, b, sizeof(struct sockaddr_in6)) == 0;
}

static volatile unsigned sink;

int sstt_fuzz_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags) {
  EXPECT(vlen >= 1 && out_seen + (int)vlen <= expected_out_count);
  uint8_t how = input_left ? byte() : 0;
  if ((how & 7) == 1) {
    errno = EINTR;  // retried: nothing counted
    return -1;
  }
  if ((how & 7) == 2) {
    // Refused (a full buffer): the addon drops this one and goes on with the next.
    errno = EAGAIN;
    out_seen++;
    return -1;
  }
  unsigned n = vlen;
  if ((how & 7) == 3 && vlen > 1) n = 1 + byte() % (vlen - 1);  // a partial send: the rest again
  for (unsigned i = 0; i < n; i++) {
    struct msghdr *h = &vec[i].msg_hdr;
    EXPECT(h->msg_iovlen == 1 && h->msg_control == NULL);
    EXPECT(h->msg_iov->iov_base == expected_out[out_seen].bytes);
    EXPECT(h->msg_iov->iov_len == expected_out[out_seen].length);
    EXPECT(name_equal(h->msg_name, h->msg_namelen, &expected_out[out_seen].to));
    // Every byte of the reply is read, so ASan sees a buffer freed or too short.
    const uint8_t *p = h->msg_iov->iov_base;
    for (size_t k = 0; k < h->msg_iov->iov_len; k++) sink += p[k];
    vec[i].msg_len = (unsigned)h->msg_iov->iov_len;
    out_seen++;
  }
  return (int)n;
}

ssize_t sstt_fuzz_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen) {
  return (ssize_t)len;
}

// ---- the "JavaScript" side ----

static napi_value Close(napi_env env, napi_callback_info info);

static void call_close(napi_value socket, int with_callback) {
  struct napi_callback_info__ info = {with_callback ? 2 : 1, {socket, close_cb}};
  Close(&the_env, &info);
}

static napi_value socket_v;
static int closed_callbacks;

static napi_status on_batch(size_t argc, const napi_value *argv) {
  EXPECT(argc == 1 && argv[0]->kind == V_NUMBER);
  int n = (int)argv[0]->number;
  EXPECT(n == expected_count && n >= 1);
  int32_t *lens = (int32_t *)lens_v->bytes;
  int32_t *ports = (int32_t *)ports_v->bytes;
  for (int i = 0; i < n; i++) {
    EXPECT(lens[i] == expected_in[i].len);
    EXPECT(ports[i] == (int32_t)expected_in[i].port);
    napi_value a = addrs_v->items[i];
    EXPECT(a != NULL && a->kind == V_STRING);
    EXPECT(strcmp(a->text, expected_in[i].text) == 0);
  }
  uint8_t how = byte();
  for (int i = 0; i < n; i++) {
    uint8_t what = byte() % 5;
    napi_value r = NULL;
    if (what == 0) {
      r = make(V_UNDEFINED);  // null: no reply for this one
    } else if (what == 1) {
      r = make(V_BUFFER);
      r->length = byte() * 5u;
      r->bytes = malloc(r->length ? r->length : 1);
      EXPECT(r->bytes != NULL);
      memset(r->bytes, 0xa5, r->length);
    } else if (what == 2) {
      r = make(V_NUMBER);  // not a buffer: skipped
    } else if (what == 3) {
      r = replies_v->items[i];  // left from the previous batch, as JavaScript may leave it
    }  // 4: a hole
    replies_v->items[i] = r;
  }
  // The replies that must go out, in slot order.
  expected_out_count = out_seen = 0;
  for (int i = 0; i < n; i++) {
    napi_value r = replies_v->items[i];
    if (r == NULL || r->kind != V_BUFFER) continue;
    expected_out[expected_out_count].bytes = r->bytes;
    expected_out[expected_out_count].length = r->length;
    expected_out[expected_out_count].to = *(struct sockaddr_storage *)&((udp_batch *)socket_v->external)->names[i];
    expected_out_count++;
  }
  if (how & 0x40) {
    close_in_callback = 1;
    call_close(socket_v, how & 0x20);
    expected_out_count = 0;  // a socket closed in the callback sends nothing more
  }
  if (how & 0x80) {
    pending_exception = 1;  // the callback threw: the batch is abandoned
    expected_out_count = 0;
    return napi_pending_exception;
  }
  return napi_ok;
}

// ---- Node-API, as much as the addon uses ----

napi_status napi_get_cb_info(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, napi_value *this_arg, void **data) {
  size_t want = *argc;
  for (size_t i = 0; i < want; i++) argv[i] = i < info->argc ? info->argv[i] : make(V_UNDEFINED);
  *argc = info->argc;
  return napi_ok;
}

napi_status napi_get_value_string_latin1(napi_env env, napi_value value, char *buf, size_t bufsize, size_t *result) {
  if (value->kind != V_STRING) return napi_string_expected;
  size_t n = strlen(value->text);
  if (n >= bufsize) n = bufsize - 1;
  memcpy(buf, value->text, n);
  buf[n] = 0;
  if (result) *result = n;
  return napi_ok;
}

napi_status napi_get_value_uint32(napi_env env, napi_value value, uint32_t *result) {
  if (value->kind != V_NUMBER) return napi_number_expected;
  *result = (uint32_t)value->number;
  return napi_ok;
}

napi_status napi_get_named_property(napi_env env, napi_value object, const char *utf8name, napi_value *result) {
  EXPECT(object == state);
  if (strcmp(utf8name, "data") == 0) *result = data_v;
  else if (strcmp(utf8name, "lens") == 0) *result = lens_v;
  else if (strcmp(utf8name, "ports") == 0) *result = ports_v;
  else if (strcmp(utf8name, "addrs") == 0) *result = addrs_v;
  else if (strcmp(utf8name, "replies") == 0) *result = replies_v;
  else *result = make(V_UNDEFINED);
  return napi_ok;
}

napi_status napi_get_buffer_info(napi_env env, napi_value value, void **data, size_t *length) {
  if (value->kind != V_BUFFER) return napi_invalid_arg;
  *data = value->bytes;
  *length = value->length;
  return napi_ok;
}

napi_status napi_is_buffer(napi_env env, napi_value value, bool *result) {
  *result = value->kind == V_BUFFER;
  return napi_ok;
}

napi_status napi_get_typedarray_info(napi_env env, napi_value typedarray, napi_typedarray_type *type, size_t *length, void **data, napi_value *arraybuffer, size_t *byte_offset) {
  if (typedarray->kind != V_INT32ARRAY) return napi_invalid_arg;
  *type = napi_int32_array;
  *length = typedarray->length;
  *data = typedarray->bytes;
  return napi_ok;
}

napi_status napi_throw_error(napi_env env, const char *code, const char *msg) {
  pending_exception = 1;
  return napi_ok;
}

napi_status napi_throw_range_error(napi_env env, const char *code, const char *msg) {
  pending_exception = 1;
  return napi_ok;
}

napi_status napi_get_and_clear_last_exception(napi_env env, napi_value *result) {
  *result = make(V_UNDEFINED);
  pending_exception = 0;
  return napi_ok;
}

napi_status napi_fatal_exception(napi_env env, napi_value err) {
  fatal_exceptions++;
  return napi_ok;
}

napi_status napi_create_string_utf8(napi_env env, const char *str, size_t length, napi_value *result) {
  return napi_create_string_latin1(env, str, length, result);
}

napi_status napi_create_string_latin1(napi_env env, const char *str, size_t length, napi_value *result) {
  napi_value v = make(V_STRING);
  size_t n = length == NAPI_AUTO_LENGTH ? strlen(str) : length;
  EXPECT(n < sizeof(v->text));
  memcpy(v->text, str, n);
  *result = v;
  return napi_ok;
}

napi_status napi_create_uint32(napi_env env, uint32_t value, napi_value *result) {
  *result = make(V_NUMBER);
  (*result)->number = value;
  return napi_ok;
}

napi_status napi_create_int32(napi_env env, int32_t value, napi_value *result) {
  *result = make(V_NUMBER);
  (*result)->number = value;
  return napi_ok;
}

napi_status napi_create_double(napi_env env, double value, napi_value *result) {
  *result = make(V_NUMBER);
  (*result)->number = value;
  return napi_ok;
}

napi_status napi_create_object(napi_env env, napi_value *result) {
  *result = make(V_OBJECT);
  return napi_ok;
}

napi_status napi_set_named_property(napi_env env, napi_value object, const char *utf8name, napi_value value) {
  return napi_ok;
}

napi_status napi_set_element(napi_env env, napi_value object, uint32_t index, napi_value value) {
  EXPECT(object->kind == V_ARRAY && index < MAX_BATCH);
  object->items[index] = value;
  return napi_ok;
}

napi_status napi_get_element(napi_env env, napi_value object, uint32_t index, napi_value *result) {
  EXPECT(object->kind == V_ARRAY && index < MAX_BATCH);
  *result = object->items[index] ? object->items[index] : make(V_UNDEFINED);
  return napi_ok;
}

napi_status napi_create_reference(napi_env env, napi_value value, uint32_t initial_refcount, napi_ref *result) {
  *result = malloc(sizeof(**result));  // never deleted: LeakSanitizer says so
  EXPECT(*result != NULL);
  (*result)->value = value;
  return napi_ok;
}

napi_status napi_delete_reference(napi_env env, napi_ref ref) {
  free(ref);
  return napi_ok;
}

napi_status napi_get_reference_value(napi_env env, napi_ref ref, napi_value *result) {
  *result = ref->value;
  return napi_ok;
}

napi_status napi_open_handle_scope(napi_env env, napi_handle_scope *result) {
  *result = (napi_handle_scope)&the_env;
  return napi_ok;
}

napi_status napi_close_handle_scope(napi_env env, napi_handle_scope scope) {
  return napi_ok;
}

napi_status napi_async_init(napi_env env, napi_value async_resource, napi_value async_resource_name, napi_async_context *result) {
  *result = malloc(sizeof(**result));
  EXPECT(*result != NULL);
  return napi_ok;
}

napi_status napi_async_destroy(napi_env env, napi_async_context async_context) {
  free(async_context);
  return napi_ok;
}

napi_status napi_make_callback(napi_env env, napi_async_context async_context, napi_value recv, napi_value func, size_t argc, const napi_value *argv, napi_value *result) {
  EXPECT(async_context != NULL && recv == state);
  *result = make(V_UNDEFINED);
  if (func == batch_cb) return on_batch(argc, argv);
  EXPECT(func == close_cb && argc == 0);
  closed_callbacks++;
  return napi_ok;
}

napi_status napi_create_external(napi_env env, void *data, napi_finalize finalize_cb, void *finalize_hint, napi_value *result) {
  napi_value v = make(V_EXTERNAL);
  v->external = data;
  v->finalize = finalize_cb;
  *result = v;
  return napi_ok;
}

napi_status napi_get_value_external(napi_env env, napi_value value, void **result) {
  if (value->kind != V_EXTERNAL) return napi_invalid_arg;
  *result = value->external;
  return napi_ok;
}

static uv_loop_t the_loop;

napi_status napi_get_uv_event_loop(napi_env env, struct uv_loop_s **loop) {
  *loop = &the_loop;
  return napi_ok;
}

napi_status napi_define_properties(napi_env env, napi_value object, size_t property_count, const napi_property_descriptor *properties) {
  return napi_ok;
}

// ---- libuv: the poll handle; a close callback runs on the next tick ----

static uv_handle_t *closing_handle;
static uv_close_cb closing_cb;

int uv_poll_init_socket(uv_loop_t *loop, uv_poll_t *handle, uv_os_sock_t socket) {
  return 0;
}

int uv_poll_start(uv_poll_t *handle, int events, uv_poll_cb cb) {
  EXPECT(cb == on_readable);
  return 0;
}

int uv_poll_stop(uv_poll_t *handle) {
  return 0;
}

void uv_close(uv_handle_t *handle, uv_close_cb close_cb_) {
  EXPECT(closing_handle == NULL);  // closed once
  closing_handle = handle;
  closing_cb = close_cb_;
}

static void next_tick(void) {
  if (!closing_handle) return;
  uv_handle_t *h = closing_handle;
  closing_handle = NULL;
  closing_cb(h);
}

// ---- one input ----

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  input = data;
  input_left = size;
  pending_exception = fatal_exceptions = closed_callbacks = close_in_callback = 0;
  unsigned batch = 1 + byte() % MAX_BATCH;
  size_t slot = 1 + u16() % 1600;
  int v6 = byte() & 1;
  sock_family = v6 ? AF_INET6 : AF_INET;

  data_v = make(V_BUFFER);
  data_v->length = batch * slot;
  data_v->bytes = calloc(1, data_v->length);
  lens_v = make(V_INT32ARRAY);
  lens_v->length = batch;
  lens_v->bytes = calloc(batch, sizeof(int32_t));
  ports_v = make(V_INT32ARRAY);
  ports_v->length = batch;
  ports_v->bytes = calloc(batch, sizeof(int32_t));
  addrs_v = make(V_ARRAY);
  replies_v = make(V_ARRAY);
  state = make(V_OBJECT);
  batch_cb = make(V_FUNCTION);
  close_cb = make(V_FUNCTION);
  napi_value host = make(V_STRING);
  strcpy(host->text, v6 ? "::1" : "127.0.0.1");
  napi_value port = make(V_NUMBER);

  struct napi_callback_info__ info = {4, {host, port, state, batch_cb}};
  socket_v = Open(&the_env, &info);
  EXPECT(!pending_exception);
  if (socket_v == NULL || socket_v->kind != V_EXTERNAL) {
    // No IPv6 loopback here (or no sockets left): nothing to drive.
    free_values();
    return 0;
  }
  udp_batch *u = socket_v->external;
  EXPECT(u->batch == batch && u->slot == slot);

  // Readable events until the input runs out or the callback closed the socket.
  while (input_left > 0 && !u->closing) {
    int status = byte() == 0xff ? UV_EBADF : 0;
    on_readable(&u->poll, status, UV_READABLE);
    // Every reply of the last batch went out or was counted as dropped (seen either way).
    EXPECT(out_seen == expected_out_count);
    pending_exception = 0;
    expected_out_count = out_seen = 0;
    next_tick();
  }
  int closed_by_callback = close_in_callback;
  if (!u->closing) call_close(socket_v, 1);
  next_tick();
  EXPECT(u->closed);
  EXPECT(closed_callbacks <= 1);
  if (!closed_by_callback) EXPECT(closed_callbacks == 1);
  // The garbage collector drops the JavaScript handle: the memory goes now.
  socket_v->finalize(&the_env, u, NULL);
  free_values();
  return 0;
}
