/*
 * SHA-256 whose state can be saved and resumed, at OpenSSL's speed, for Node.
 *
 * An S3 upload session may take its next chunk on another replica, so the running
 * digest must be stored with the session. node:crypto's Hash cannot export its
 * state; hash-wasm can, but runs 4-10x slower than OpenSSL (no SHA extensions),
 * on the event loop. OpenSSL's SHA256_CTX is a plain struct: this addon keeps it
 * in a JavaScript Buffer and converts it to and from hash-wasm's saved layout, so
 * a session started on a replica without the addon continues on one with it and
 * back (src/storage/s3/resumable-sha256.ts).
 *
 * Node links OpenSSL and exports its symbols; the headers come with Node's.
 *
 * JavaScript API (ctx is a Buffer of ctxBytes bytes):
 *   ctxBytes                    size of the state Buffer
 *   init(ctx)
 *   update(ctx, bytes)          bytes: Buffer / Uint8Array
 *   digest(ctx) -> Buffer(32)   leaves ctx unchanged
 *   exportState(ctx) -> Buffer(112)   hash-wasm's internal layout (without its 4-byte prefix)
 *   importState(ctx, Buffer(112))
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <stdint.h>
#include <string.h>

#include <node_api.h>
#include <openssl/sha.h>

/* hash-wasm 4.x sha256.c: struct { uint32 message[16]; uint64 length; uint32 hash[8];
 * uint32 digest_length; } on wasm32 (little-endian, 8-byte aligned: 112 bytes). */
#define WASM_STATE_BYTES 112
#define WASM_LENGTH_AT 64
#define WASM_HASH_AT 72
#define WASM_DIGEST_LENGTH_AT 104

#define CHECK(call)                                                                                                    \
  do {                                                                                                                 \
    if ((call) != napi_ok) return NULL;                                                                                \
  } while (0)

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

/* A Buffer or Uint8Array argument as bytes. */
static int bytes_of(napi_env env, napi_value value, void **data, size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  size_t count, offset;
  napi_value buffer;
  if (napi_get_typedarray_info(env, value, &type, &count, data, &buffer, &offset) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  *length = count;
  return 1;
}

static SHA256_CTX *ctx_of(napi_env env, napi_value value) {
  void *data;
  size_t length;
  if (!bytes_of(env, value, &data, &length) || length != sizeof(SHA256_CTX)) return NULL;
  return (SHA256_CTX *)data;
}

static void put_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static napi_value js_init(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  SHA256_CTX *c = argc == 1 ? ctx_of(env, argv[0]) : NULL;
  if (!c) return fail(env, "init(ctx): ctx must be a Buffer of ctxBytes bytes");
  SHA256_Init(c);
  return NULL;
}

static napi_value js_update(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  SHA256_CTX *c = argc == 2 ? ctx_of(env, argv[0]) : NULL;
  void *data;
  size_t length;
  if (!c || !bytes_of(env, argv[1], &data, &length)) return fail(env, "update(ctx, bytes): bad arguments");
  SHA256_Update(c, data, length);
  return NULL;
}

static napi_value js_digest(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  SHA256_CTX *c = argc == 1 ? ctx_of(env, argv[0]) : NULL;
  if (!c) return fail(env, "digest(ctx): ctx must be a Buffer of ctxBytes bytes");
  SHA256_CTX copy = *c;
  void *out;
  napi_value result;
  CHECK(napi_create_buffer(env, SHA256_DIGEST_LENGTH, &out, &result));
  SHA256_Final(out, &copy);
  return result;
}

static napi_value js_export(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  SHA256_CTX *c = argc == 1 ? ctx_of(env, argv[0]) : NULL;
  if (!c) return fail(env, "exportState(ctx): ctx must be a Buffer of ctxBytes bytes");
  void *out;
  napi_value result;
  CHECK(napi_create_buffer(env, WASM_STATE_BYTES, &out, &result));
  uint8_t *p = out;
  memset(p, 0, WASM_STATE_BYTES);
  /* OpenSSL keeps the pending bytes (c->num of them) at the start of data, as hash-wasm does in message. */
  memcpy(p, c->data, 64);
  uint64_t bytes = (((uint64_t)c->Nh << 32) | c->Nl) >> 3;
  put_le32(p + WASM_LENGTH_AT, (uint32_t)bytes);
  put_le32(p + WASM_LENGTH_AT + 4, (uint32_t)(bytes >> 32));
  for (int i = 0; i < 8; i++) put_le32(p + WASM_HASH_AT + 4 * i, c->h[i]);
  put_le32(p + WASM_DIGEST_LENGTH_AT, SHA256_DIGEST_LENGTH);
  return result;
}

static napi_value js_import(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  SHA256_CTX *c = argc == 2 ? ctx_of(env, argv[0]) : NULL;
  void *data;
  size_t length;
  if (!c || !bytes_of(env, argv[1], &data, &length) || length != WASM_STATE_BYTES)
    return fail(env, "importState(ctx, state): bad arguments");
  const uint8_t *p = data;
  if (get_le32(p + WASM_DIGEST_LENGTH_AT) != SHA256_DIGEST_LENGTH) return fail(env, "importState: not a SHA-256 state");
  uint64_t bytes = (uint64_t)get_le32(p + WASM_LENGTH_AT) | (uint64_t)get_le32(p + WASM_LENGTH_AT + 4) << 32;
  memset(c, 0, sizeof(*c));
  for (int i = 0; i < 8; i++) c->h[i] = get_le32(p + WASM_HASH_AT + 4 * i);
  c->Nl = (uint32_t)(bytes << 3);
  c->Nh = (uint32_t)(bytes >> 29);
  memcpy(c->data, p, 64);
  c->num = (unsigned int)(bytes & 63);
  c->md_len = SHA256_DIGEST_LENGTH;
  return NULL;
}

static napi_value init_module(napi_env env, napi_value exports) {
  napi_value size;
  CHECK(napi_create_uint32(env, sizeof(SHA256_CTX), &size));
  napi_property_descriptor props[] = {
      {"ctxBytes", NULL, NULL, NULL, NULL, size, napi_enumerable, NULL},
      {"init", NULL, js_init, NULL, NULL, NULL, napi_enumerable, NULL},
      {"update", NULL, js_update, NULL, NULL, NULL, napi_enumerable, NULL},
      {"digest", NULL, js_digest, NULL, NULL, NULL, napi_enumerable, NULL},
      {"exportState", NULL, js_export, NULL, NULL, NULL, napi_enumerable, NULL},
      {"importState", NULL, js_import, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
