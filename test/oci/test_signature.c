/* lib/oci/signature.c: keys, base64, signature checks (a real cosign
 * signature, and EC, RSA and Ed25519 keys made here), the simple-signing
 * payload and the .sig manifest, each limit. */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "oci/signature.h"

#define D1 "sha256:87bb2302021fac58c639b35d70166f49314d17c252a97646d4827731990559ad"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

/* What `cosign generate-key-pair` and `cosign sign --key` (v2.6.5) wrote. */
static const char cosign_pub[] = "-----BEGIN PUBLIC KEY-----\n"
				 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAELEK9PRrUavA0Zeb8HT4uCw7OAm+l\n"
				 "fC7NnSKPPnAJLUaOpQ9T4pvMN7O3PEM5fCYgLPF/D0PRFwLJ29lqK/NCwQ==\n"
				 "-----END PUBLIC KEY-----\n";
static const char cosign_payload[] =
    "{\"critical\":{\"identity\":{\"docker-reference\":\"127.0.0.1:48343/capsules/bb\"},\"image\":{"
    "\"docker-manifest-digest\":\"" D1
    "\"},\"type\":\"cosign container image signature\"},\"optional\":null}";
static const char cosign_sig[] =
    "MEUCIQCKvqNWTOH2aQZVdiZNXVZBkuHOtUDIlnyQvdKKPq75TQIgFsCb7SM7QEiyD3ucPN8pWVZjqtbsvK4rfbNWJ1pFxmE=";

static void expect_err(int r, int code, struct recap_error **err, const char *needle)
{
	if (r != -code)
		fail_msg("got %d (%s), want %d", r, *err ? recap_error_message(*err) : "no message", -code);
	if (needle && !strstr(recap_error_message(*err), needle))
		fail_msg("'%s' lacks '%s'", recap_error_message(*err), needle);
	recap_error_free(*err);
	*err = NULL;
}

static struct recap_oci_sig_key *parse_key(const char *name, const char *pem)
{
	struct recap_oci_sig_key *k = NULL;
	_cleanup_error_ struct recap_error *err = NULL;
	if (recap_oci_sig_key_parse(name, pem, strlen(pem), &k, &err) < 0)
		fail_msg("%s", recap_error_message(err));
	assert_string_equal(recap_oci_sig_key_name(k), name);
	return k;
}

static void real_cosign_signature(void **state)
{
	struct recap_oci_sig_key *k = parse_key("cosign.pub", cosign_pub);
	_cleanup_error_ struct recap_error *err = NULL;
	size_t n = strlen(cosign_payload);
	assert_int_equal(recap_oci_sig_check(k, cosign_payload, n, cosign_sig, &err), 0);
	assert_int_equal(recap_oci_sig_payload_check(cosign_payload, n, D1, &err), 0);
	/* a signature for another digest */
	expect_err(recap_oci_sig_payload_check(cosign_payload, n, D2, &err), ESTALE, &err,
		   "is for " D1 ", not " D2);
	/* one byte of the payload changed: the signature no longer verifies */
	char tampered[sizeof(cosign_payload)];
	memcpy(tampered, cosign_payload, sizeof(cosign_payload));
	tampered[strlen("{\"critical\":{\"identity\":{\"docker-reference\":\"1")] = '9';
	expect_err(recap_oci_sig_check(k, tampered, n, cosign_sig, &err), EKEYREJECTED, &err,
		   "does not verify with cosign.pub");
	/* nor over a prefix, nor with a signature bit flipped */
	expect_err(recap_oci_sig_check(k, cosign_payload, n - 1, cosign_sig, &err), EKEYREJECTED, &err, NULL);
	char sig[sizeof(cosign_sig)];
	memcpy(sig, cosign_sig, sizeof(sig));
	sig[20] = sig[20] == 'A' ? 'B' : 'A';
	expect_err(recap_oci_sig_check(k, cosign_payload, n, sig, &err), EKEYREJECTED, &err, NULL);
	/* not base64, too long */
	expect_err(recap_oci_sig_check(k, cosign_payload, n, "MEUCIQ!=", &err), EBADMSG, &err, "not base64");
	char *huge = malloc(RECAP_OCI_SIG_B64_MAX + 5);
	memset(huge, 'A', RECAP_OCI_SIG_B64_MAX + 4);
	huge[RECAP_OCI_SIG_B64_MAX + 4] = '\0';
	expect_err(recap_oci_sig_check(k, cosign_payload, n, huge, &err), E2BIG, &err, "limit 2048");
	free(huge);
	recap_oci_sig_key_free(k);
}

/* A key made here: its public PEM, and signatures of any data. */
struct made_key {
	EVP_PKEY *pkey;
	char pem[4096];
};

static void make_key(struct made_key *m, const char *type, const char *param, size_t bits)
{
	m->pkey = bits	  ? EVP_PKEY_Q_keygen(NULL, NULL, type, bits)
		  : param ? EVP_PKEY_Q_keygen(NULL, NULL, type, param)
			  : EVP_PKEY_Q_keygen(NULL, NULL, type);
	assert_non_null(m->pkey);
	BIO *b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PUBKEY(b, m->pkey), 1);
	int n = BIO_read(b, m->pem, sizeof(m->pem) - 1);
	assert_true(n > 0);
	m->pem[n] = '\0';
	BIO_free(b);
}

static void sign(const struct made_key *m, const char *data, char *b64)
{
	unsigned char sig[1024];
	size_t n = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const EVP_MD *md = EVP_PKEY_is_a(m->pkey, "ED25519") ? NULL : EVP_sha256();
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, m->pkey), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &n, (const unsigned char *)data, strlen(data)), 1);
	EVP_MD_CTX_free(ctx);
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)n);
}

static void key_types(void **state)
{
	static const struct {
		const char *type, *param;
		size_t bits;
	} types[] = {
	    {"EC", "P-256", 0},	 {"EC", "P-384", 0},   {"EC", "P-521", 0},
	    {"RSA", NULL, 2048}, {"ED25519", NULL, 0},
	};
	const char *data = cosign_payload;
	_cleanup_error_ struct recap_error *err = NULL;
	struct recap_oci_sig_key *cosign = parse_key("cosign.pub", cosign_pub);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct made_key m, other;
		make_key(&m, types[i].type, types[i].param, types[i].bits);
		make_key(&other, types[i].type, types[i].param, types[i].bits);
		struct recap_oci_sig_key *k = parse_key(types[i].type, m.pem);
		struct recap_oci_sig_key *ko = parse_key("other.pub", other.pem);
		char b64[2048];
		sign(&m, data, b64);
		if (recap_oci_sig_check(k, data, strlen(data), b64, &err) < 0)
			fail_msg("%s: %s", types[i].type, recap_error_message(err));
		/* another key of the same type, a key of another type */
		expect_err(recap_oci_sig_check(ko, data, strlen(data), b64, &err), EKEYREJECTED, &err,
			   "does not verify with other.pub");
		expect_err(recap_oci_sig_check(cosign, data, strlen(data), b64, &err), EKEYREJECTED, &err,
			   NULL);
		/* the data changed */
		expect_err(recap_oci_sig_check(k, "{}", 2, b64, &err), EKEYREJECTED, &err, NULL);
		recap_oci_sig_key_free(k);
		recap_oci_sig_key_free(ko);
		EVP_PKEY_free(m.pkey);
		EVP_PKEY_free(other.pkey);
	}
	recap_oci_sig_key_free(cosign);
}

static void keys_refused(void **state)
{
	_cleanup_error_ struct recap_error *err = NULL;
	struct recap_oci_sig_key *k = NULL;
	struct made_key m;
	make_key(&m, "RSA", NULL, 1024);
	expect_err(recap_oci_sig_key_parse("small.pub", m.pem, strlen(m.pem), &k, &err), EINVAL, &err,
		   "small.pub: an RSA key of 1024 bits (at least 2048)");
	EVP_PKEY_free(m.pkey);
	make_key(&m, "EC", "secp256k1", 0);
	expect_err(recap_oci_sig_key_parse("k1.pub", m.pem, strlen(m.pem), &k, &err), EINVAL, &err,
		   "k1.pub: an EC key on secp256k1");
	/* the private key */
	BIO *b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PrivateKey(b, m.pkey, NULL, NULL, 0, NULL, NULL), 1);
	char pem[4096];
	int n = BIO_read(b, pem, sizeof(pem) - 1);
	pem[n] = '\0';
	BIO_free(b);
	EVP_PKEY_free(m.pkey);
	expect_err(recap_oci_sig_key_parse("key.pem", pem, strlen(pem), &k, &err), EINVAL, &err,
		   "key.pem holds a private key");
	static const char cosign_private[] =
	    "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnt9fQ==\n"
	    "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
	expect_err(recap_oci_sig_key_parse("cosign.key", cosign_private, strlen(cosign_private), &k, &err),
		   EINVAL, &err, "holds a private key");
	expect_err(recap_oci_sig_key_parse("x", "hello", 5, &k, &err), EINVAL, &err, "no PEM public key");
	char two[2 * sizeof(cosign_pub)];
	snprintf(two, sizeof(two), "%s%s", cosign_pub, cosign_pub);
	expect_err(recap_oci_sig_key_parse("two.pub", two, strlen(two), &k, &err), EINVAL, &err,
		   "two.pub holds more than one PEM block");
	static const char broken[] =
	    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQ==\n-----END PUBLIC KEY-----\n";
	expect_err(recap_oci_sig_key_parse("b", broken, strlen(broken), &k, &err), EINVAL, &err,
		   "does not parse");
	char *big = calloc(1, RECAP_OCI_SIG_KEY_FILE_MAX + 2);
	memset(big, ' ', RECAP_OCI_SIG_KEY_FILE_MAX + 1);
	expect_err(recap_oci_sig_key_parse("big", big, RECAP_OCI_SIG_KEY_FILE_MAX + 1, &k, &err), EFBIG, &err,
		   "limit");
	free(big);
	expect_err(recap_oci_sig_key_load("/nonexistent/cosign.pub", &k, &err), ENOENT, &err,
		   "/nonexistent/cosign.pub");
	assert_null(k);
}

static void payload(void **state)
{
	_cleanup_error_ struct recap_error *err = NULL;
#define P(crit) "{\"critical\":" crit ",\"optional\":{\"a\":\"b\"}}"
#define IMG(d) "\"image\":{\"docker-manifest-digest\":\"" d "\"}"
#define TYPE "\"type\":\"cosign container image signature\""
	static const char ok[] = P("{" IMG(D1) "," TYPE "}");
	assert_int_equal(recap_oci_sig_payload_check(ok, strlen(ok), D1, &err), 0);
	static const struct {
		const char *json;
		int code;
		const char *needle;
	} bad[] = {
	    {P("{" IMG(D2) "," TYPE "}"), ESTALE, "is for " D2 ", not " D1 " (a signature of another image)"},
	    {P("{" IMG(D1) ",\"type\":\"atomic container signature\"}"), EBADMSG,
	     "critical.type is 'atomic container signature'"},
	    {P("{" IMG(D1) "}"), EBADMSG, "no critical.type"},
	    {P("{" TYPE "}"), EBADMSG, "no critical.image.docker-manifest-digest"},
	    {P("{" IMG("sha256:abc") "," TYPE "}"), EBADMSG, "docker-manifest-digest"},
	    {P("{\"image\":{\"docker-manifest-digest\":7}," TYPE "}"), EBADMSG, "no critical.image"},
	    {P("[]"), EBADMSG, "no 'critical' object"},
	    {"[1]", EBADMSG, "not a JSON object"},
	    {"{\"critical\":", EBADMSG, "payload: invalid JSON"},
	    /* a duplicate key: two readers could see two digests */
	    {P("{" IMG(D1) "," IMG(D2) "," TYPE "}"), EBADMSG, "duplicate"},
	    {P("{" IMG(D1) "," TYPE "," TYPE "}"), EBADMSG, "duplicate"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = recap_oci_sig_payload_check(bad[i].json, strlen(bad[i].json), D1, &err);
		if (r != -bad[i].code || !strstr(recap_error_message(err), bad[i].needle))
			fail_msg("%s: %d %s", bad[i].json, r, err ? recap_error_message(err) : "");
		recap_error_free(err);
		err = NULL;
	}
	size_t n = RECAP_OCI_SIG_PAYLOAD_MAX + 1;
	char *big = malloc(n + 1);
	memset(big, ' ', n);
	memcpy(big, ok, strlen(ok));
	big[n] = '\0';
	expect_err(recap_oci_sig_payload_check(big, n, D1, &err), EFBIG, &err, "exceeds the limit");
	free(big);
}

#define LAYER(mt, digest, size, ann)                                                                         \
	"{\"mediaType\":\"" mt "\",\"digest\":\"" digest "\",\"size\":" size ann "}"
#define ANN(sig) ",\"annotations\":{\"dev.cosignproject.cosign/signature\":\"" sig "\"}"
#define SS RECAP_OCI_SIG_MT_SIMPLESIGNING
#define MANIFEST(layers)                                                                                     \
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{"     \
	"\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":233,\"digest\":\"" D2           \
	"\"},\"layers\":[" layers "]}"

static void sig_manifest(void **state)
{
	_cleanup_error_ struct recap_error *err = NULL;
	struct recap_oci_sig_layer *l = NULL;
	size_t n = 0;
	static const char m[] = MANIFEST(LAYER(SS, D1, "243", ANN("c2ln")) "," LAYER(
	    "application/vnd.oci.image.layer.v1.tar", D2, "5",
	    ANN("eA==")) "," LAYER(SS, D2, "9",
				   "") "," LAYER(SS, "sha256:x", "9",
						 ANN("eA==")) "," LAYER(SS, D2, "65537",
									ANN("eA==")) "," LAYER(SS, D2, "-1",
											       ANN("eA==")));
	assert_int_equal(recap_oci_sig_manifest_parse(m, strlen(m), &l, &n, &err), 0);
	assert_int_equal(n, 5); /* the tar layer is no signature */
	assert_string_equal(l[0].digest, D1);
	assert_int_equal(l[0].size, 243);
	assert_string_equal(l[0].b64, "c2ln");
	assert_string_equal(l[0].problem, "");
	assert_string_equal(l[1].problem, "no dev.cosignproject.cosign/signature annotation");
	assert_string_equal(l[2].problem, "the payload's descriptor has no valid digest");
	assert_string_equal(l[3].problem, "a payload of 65537 bytes (limit 65536)");
	assert_string_equal(l[4].problem, "the payload's descriptor has no valid size");
	free(l);

	/* a signature annotation over the limit */
	size_t len = RECAP_OCI_SIG_B64_MAX + 1;
	char *big = malloc(len + 512);
	int k = snprintf(big, 512,
			 "{\"layers\":[{\"mediaType\":\"" SS "\",\"digest\":\"" D1
			 "\",\"size\":1,\"annotations\":{\"" RECAP_OCI_SIG_ANNOTATION "\":\"");
	memset(big + k, 'A', len);
	strcpy(big + k + len, "\"}}]}");
	assert_int_equal(recap_oci_sig_manifest_parse(big, strlen(big), &l, &n, &err), 0);
	assert_string_equal(l[0].problem, "a signature of 2049 base64 characters (limit 2048)");
	free(l);
	free(big);

	/* more layers than the limit: refused before anything is fetched */
	struct recap_buf b = RECAP_BUF_INIT(RECAP_OCI_SIG_MANIFEST_MAX);
	recap_buf_appends(&b, "{\"layers\":[");
	for (int i = 0; i <= RECAP_OCI_SIG_LAYERS_MAX; i++)
		recap_buf_printf(&b, "%s" LAYER(SS, D1, "1", ANN("eA==")), i ? "," : "");
	recap_buf_appends(&b, "]}");
	expect_err(recap_oci_sig_manifest_parse(b.data, b.len, &l, &n, &err), E2BIG, &err,
		   "33 layers (limit 32)");
	recap_buf_free(&b);

	static const struct {
		const char *json;
		int code;
		const char *needle;
	} bad[] = {
	    {MANIFEST(""), EBADMSG, "no layer of type " SS},
	    {MANIFEST(LAYER("application/vnd.oci.image.layer.v1.tar", D1, "1", "")), EBADMSG,
	     "no layer of type"},
	    {"{\"schemaVersion\":2}", EBADMSG, "no 'layers' array"},
	    {"{\"layers\":{}}", EBADMSG, "no 'layers' array"},
	    {"not json", EBADMSG, "signature manifest: invalid JSON"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = recap_oci_sig_manifest_parse(bad[i].json, strlen(bad[i].json), &l, &n, &err);
		if (r != -bad[i].code || !strstr(recap_error_message(err), bad[i].needle))
			fail_msg("%s: %d %s", bad[i].json, r, err ? recap_error_message(err) : "");
		assert_null(l);
		recap_error_free(err);
		err = NULL;
	}
	len = RECAP_OCI_SIG_MANIFEST_MAX + 1;
	big = malloc(len);
	memset(big, ' ', len);
	expect_err(recap_oci_sig_manifest_parse(big, len, &l, &n, &err), EFBIG, &err, "exceeds the limit");
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(real_cosign_signature), cmocka_unit_test(key_types),
	    cmocka_unit_test(keys_refused),	     cmocka_unit_test(payload),
	    cmocka_unit_test(sig_manifest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
