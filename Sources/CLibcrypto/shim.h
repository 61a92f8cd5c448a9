// OpenSSL's libcrypto, for SHA-256 and SHA-512 whose running state can be saved and resumed
// (SHA256_CTX and SHA512_CTX are plain structs). The EVP interface hides that state, so the
// low-level calls are used; OpenSSL 3 marks them deprecated but keeps them.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
