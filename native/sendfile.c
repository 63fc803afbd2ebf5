/*
 * sendfile(2) from a blob file to a client's TCP socket, for Node.
 *
 * Node has no sendfile: a streamed blob is read into user space and written back
 * out, two copies per byte. Go's net/http (and so Distribution) hands the copy to
 * the kernel; on a two-core machine the difference decides large pulls. This is
 * the one piece of native code in Stowage, and it stays small:
 *
 *  - sendfile runs on libuv's thread pool (a cold file may block on the disk, as
 *    fs.read does there); the socket stays non-blocking, so a full socket buffer
 *    ends a step with EAGAIN instead of parking a pool thread;
 *  - the wait for the socket to drain is a uv_poll on the main loop;
 *  - the socket and the file are dup()ed at start, so if JavaScript closes either
 *    while a step runs, the descriptor number cannot be reused under us and the
 *    bytes can never reach another connection.
 *
 * JavaScript API:
 *   start(socketFd, fileFd, offset, length, callback(errno, sentBytes)) -> id
 *   cancel(id)   stop a transfer; its callback then gets ECANCELED
 * The callback runs exactly once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

/* A pool thread gives way after this much, so one fast client cannot hold it. */
#define STEP_BYTES (16 * 1024 * 1024)
/* Linux transfers at most 0x7ffff000 bytes per call. */
#define CALL_BYTES 0x7ffff000

typedef struct transfer {
  uint32_t id;
  struct transfer *next;
  napi_env env;
  napi_ref callback;
  napi_async_work work;
  uv_poll_t poll;
  int polling;
  int sock;
  int file;
  off_t offset;
  int64_t remaining;
  int64_t sent;
  int err;          /* errno that ended the transfer, 0 while it goes on */
  int again;        /* the last step stopped on a full socket buffer */
  atomic_int cancelled;
} transfer_t;

/* Transfers in flight. Touched only on the loop thread that called start(): Stowage
 * loads the addon on the main thread only (no worker threads). */
static transfer_t *transfers = NULL;
static uint32_t next_id = 1;

static void queue_step(transfer_t *t);

static transfer_t *find(uint32_t id) {
  for (transfer_t *t = transfers; t; t = t->next)
    if (t->id == id) return t;
  return NULL;
}

static void unlink_transfer(transfer_t *t) {
  for (transfer_t **p = &transfers; *p; p = &(*p)->next) {
    if (*p == t) {
      *p = t->next;
      return;
    }
  }
}

/* Pool thread: send until done, the socket is full, an error, or the step ends. */
static void step_execute(napi_env env, void *data) {
  (void)env;
  transfer_t *t = data;
  int64_t budget = STEP_BYTES;
  t->again = 0;
  while (t->err == 0 && t->remaining > 0 && budget > 0) {
    if (atomic_load(&t->cancelled)) {
      t->err = ECANCELED;
      break;
    }
    int64_t want = t->remaining < budget ? t->remaining : budget;
    size_t n = want > CALL_BYTES ? CALL_BYTES : (size_t)want;
    ssize_t r = sendfile(t->sock, t->file, &t->offset, n);
    if (r > 0) {
      t->remaining -= r;
      t->sent += r;
      budget -= r;
    } else if (r == 0) {
      t->err = EIO; /* the file ended before `length` bytes: it shrank */
    } else if (errno == EAGAIN) {
      t->again = 1;
      break;
    } else if (errno != EINTR) {
      t->err = errno;
    }
  }
}

static void on_closed(uv_handle_t *handle) {
  transfer_t *t = handle->data;
  close(t->sock);
  close(t->file);
  free(t);
}

static void finish(napi_env env, transfer_t *t) {
  napi_value cb, global, argv[2], result;
  unlink_transfer(t);
  napi_get_reference_value(env, t->callback, &cb);
  napi_get_global(env, &global);
  napi_create_int32(env, t->err, &argv[0]);
  napi_create_int64(env, t->sent, &argv[1]);
  napi_delete_reference(env, t->callback);
  uv_close((uv_handle_t *)&t->poll, on_closed);
  /* Last: a throwing callback must not leave the transfer half torn down. */
  napi_call_function(env, global, cb, 2, argv, &result);
}

static void on_writable(uv_poll_t *handle, int status, int events) {
  (void)events;
  (void)status; /* an error on the socket shows up as sendfile's errno in the next step */
  transfer_t *t = handle->data;
  napi_handle_scope scope;
  uv_poll_stop(handle);
  t->polling = 0;
  /* A plain libuv callback: N-API values need a scope of their own here. */
  napi_open_handle_scope(t->env, &scope);
  queue_step(t);
  napi_close_handle_scope(t->env, scope);
}

/* Main thread, after each step. */
static void step_complete(napi_env env, napi_status status, void *data) {
  transfer_t *t = data;
  napi_delete_async_work(env, t->work);
  t->work = NULL;
  if (status == napi_cancelled && t->err == 0) t->err = ECANCELED;
  if (t->err == 0 && atomic_load(&t->cancelled)) t->err = ECANCELED;
  if (t->err != 0 || t->remaining == 0) {
    finish(env, t);
  } else if (t->again) {
    t->polling = 1;
    int r = uv_poll_start(&t->poll, UV_WRITABLE, on_writable);
    if (r != 0) {
      t->polling = 0;
      t->err = -r;
      finish(env, t);
    }
  } else {
    queue_step(t);
  }
}

static void queue_step(transfer_t *t) {
  napi_value name;
  napi_create_string_utf8(t->env, "stowage:sendfile", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(t->env, NULL, name, step_execute, step_complete, t, &t->work) != napi_ok ||
      napi_queue_async_work(t->env, t->work) != napi_ok) {
    /* Not expected; end the transfer rather than leak it. */
    if (t->work) napi_delete_async_work(t->env, t->work);
    t->work = NULL;
    t->err = ENOMEM;
    finish(t->env, t);
  }
}

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, "ERR_STOWAGE_SENDFILE", message);
  return NULL;
}

static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 5) return throw_error(env, "start(socketFd, fileFd, offset, length, callback)");
  int32_t sock, file;
  int64_t offset, length;
  napi_valuetype cbtype;
  if (napi_get_value_int32(env, argv[0], &sock) != napi_ok || napi_get_value_int32(env, argv[1], &file) != napi_ok ||
      napi_get_value_int64(env, argv[2], &offset) != napi_ok || napi_get_value_int64(env, argv[3], &length) != napi_ok ||
      napi_typeof(env, argv[4], &cbtype) != napi_ok || cbtype != napi_function || sock < 0 || file < 0 || offset < 0 ||
      length < 0)
    return throw_error(env, "start(socketFd, fileFd, offset, length, callback): bad arguments");

  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_error(env, "no event loop");
  transfer_t *t = calloc(1, sizeof *t);
  if (!t) return throw_error(env, "out of memory");
  t->sock = fcntl(sock, F_DUPFD_CLOEXEC, 0);
  t->file = t->sock < 0 ? -1 : fcntl(file, F_DUPFD_CLOEXEC, 0);
  if (t->sock < 0 || t->file < 0) {
    int e = errno;
    if (t->sock >= 0) close(t->sock);
    free(t);
    errno = e;
    return throw_error(env, "dup failed");
  }
  int r = uv_poll_init(loop, &t->poll, t->sock);
  if (r != 0) {
    close(t->sock);
    close(t->file);
    free(t);
    return throw_error(env, uv_strerror(r));
  }
  t->poll.data = t;
  t->env = env;
  t->offset = (off_t)offset;
  t->remaining = length;
  napi_create_reference(env, argv[4], 1, &t->callback);
  t->id = next_id++;
  if (next_id == 0) next_id = 1;
  t->next = transfers;
  transfers = t;

  napi_value id;
  napi_create_uint32(env, t->id, &id);
  queue_step(t);
  return id;
}

static napi_value cancel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint32_t id;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 1 || napi_get_value_uint32(env, argv[0], &id) != napi_ok) return throw_error(env, "cancel(id)");
  transfer_t *t = find(id);
  if (!t) return NULL; /* already finished */
  atomic_store(&t->cancelled, 1);
  if (t->polling) {
    /* Waiting on the socket: wake it through one more (immediately ending) step. */
    uv_poll_stop(&t->poll);
    t->polling = 0;
    queue_step(t);
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"start", NULL, start, NULL, NULL, NULL, napi_default, NULL},
      {"cancel", NULL, cancel, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 2, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
