/* When a certificate must be replaced: the renewal rule. */
#include <string.h>

#include "certs/internal.h"

int64_t recap_certs_due(X509 *cert)
{
	int64_t nb, na;
	if (!cert || recap_certs_times(cert, &nb, &na, NULL) < 0)
		return -1;
	/* issued RECAP_CERTS_BACKDATE_S after notBefore (unless the whole
	 * certificate is shorter, which RECap never issues) */
	int64_t issued = na - nb > RECAP_CERTS_BACKDATE_S ? nb + RECAP_CERTS_BACKDATE_S : nb;
	return issued + (na - issued) * 2 / 3;
}

static const char *times_renewal(X509 *cert, int64_t now)
{
	int64_t nb, na;
	if (recap_certs_times(cert, &nb, &na, NULL) < 0)
		return "its validity times do not parse";
	if (now >= na)
		return "it has expired";
	if (now >= recap_certs_due(cert))
		return "it is past 2/3 of its lifetime";
	return NULL;
}

const char *recap_certs_ca_renewal(X509 *ca, int64_t now)
{
	if (!ca)
		return "it does not parse";
	if (!recap_certs_is_ca(ca))
		return "it is not a CA";
	if (!recap_certs_signed_by(ca, ca))
		return "it is not self-signed";
	return times_renewal(ca, now);
}

const char *recap_certs_leaf_renewal(X509 *cert, X509 *ca, const struct recap_certs_leaf_spec *want,
				     int64_t now)
{
	char cn[128];
	if (!cert)
		return "it does not parse";
	if (!recap_certs_signed_by(cert, ca))
		return "it is not signed by the current CA";
	if (recap_certs_is_ca(cert))
		return "it is a CA";
	if (recap_certs_cn(cert, cn, sizeof(cn), NULL) < 0 || strcmp(cn, want->cn) != 0)
		return "its CN is not the one wanted";
	if (!recap_certs_sans_equal(cert, want))
		return "its SANs are not the ones wanted";
	if (recap_certs_usages(cert) != want->usages)
		return "its extended key usages are not the ones wanted";
	return times_renewal(cert, now);
}
