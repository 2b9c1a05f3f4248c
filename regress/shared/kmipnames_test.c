/*
 * KMIP tables: the Result Reason a client of each protocol version gets,
 * and the attributes it knows.
 */
#include <sys/types.h>

#include <atf-c.h>
#include <stdint.h>

#include "kmip.h"

#include "../atfsan.h"

/* Every reason up to 0x100, for each version: only what it defines. */
static int
defined_in(uint32_t reason, int minor)
{
	if (reason == KMIP_REASON_GENERAL_FAILURE)
		return (1);
	if (reason < KMIP_REASON_ITEM_NOT_FOUND)
		return (0);
	if (minor <= 2)
		return (reason <= KMIP_REASON_KEY_COMPRESSION_TYPE_NOT_SUPPORTED);
	if (minor == 3)
		return (reason <= KMIP_REASON_ATTESTATION_FAILED);
	return (reason <= KMIP_REASON_OBJECT_ALREADY_EXISTS);
}

ATF_TC_WITHOUT_HEAD(reason_in_version);
ATF_TC_BODY(reason_in_version, tc)
{
	uint32_t	 r, got;
	int		 minor;

	for (minor = 0; minor <= 4; minor++)
		for (r = 0; r <= 0x100; r++) {
			got = kmip_reason_for_version(r, 1, minor);
			ATF_CHECK_MSG(defined_in(got, minor),
			    "1.%d: 0x%x became 0x%x", minor, r, got);
			if (defined_in(r, minor))
				ATF_CHECK_EQ_MSG(got, r, "1.%d: 0x%x changed",
				    minor, r);
		}
}

ATF_TC_WITHOUT_HEAD(reason_equivalents);
ATF_TC_BODY(reason_equivalents, tc)
{
	/* What the 1.x error tables say for the 2.0 reasons we use. */
	ATF_CHECK_EQ(kmip_reason_for_version(
	    KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE, 1, 0),
	    KMIP_REASON_PERMISSION_DENIED);
	ATF_CHECK_EQ(kmip_reason_for_version(
	    KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE, 1, 4),
	    KMIP_REASON_PERMISSION_DENIED);
	ATF_CHECK_EQ(kmip_reason_for_version(KMIP_REASON_OBJECT_DESTROYED,
	    1, 2), KMIP_REASON_ITEM_NOT_FOUND);
	ATF_CHECK_EQ(kmip_reason_for_version(KMIP_REASON_SENSITIVE, 1, 2),
	    KMIP_REASON_PERMISSION_DENIED);
	ATF_CHECK_EQ(kmip_reason_for_version(KMIP_REASON_SENSITIVE, 1, 4),
	    KMIP_REASON_SENSITIVE);
	ATF_CHECK_EQ(kmip_reason_for_version(
	    KMIP_REASON_INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK, 1, 2),
	    KMIP_REASON_PERMISSION_DENIED);
	/* 2.0 gets what it asked for. */
	ATF_CHECK_EQ(kmip_reason_for_version(
	    KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE, 2, 0),
	    KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE);
	/* Nothing unknown leaks through to 1.x. */
	ATF_CHECK_EQ(kmip_reason_for_version(0x4242, 1, 4),
	    KMIP_REASON_GENERAL_FAILURE);
}

ATF_TC_WITHOUT_HEAD(attr_in_version);
ATF_TC_BODY(attr_in_version, tc)
{
	static const struct {
		const char	*name;
		int		 since;
	} t[] = {
		{ "Activation Date", 0 },	{ "Name", 0 },
		{ "Unique Identifier", 0 },	{ "Last Change Date", 0 },
		{ "Fresh", 1 },			{ "Certificate Length", 1 },
		{ "X.509 Certificate Subject", 1 },
		{ "Digital Signature Algorithm", 1 },
		{ "Alternative Name", 2 },	{ "Key Value Present", 2 },
		{ "Key Value Location", 2 },
		{ "Original Creation Date", 2 },
		{ "Random Number Generator", 3 },
		{ "Sensitive", 4 },		{ "Always Sensitive", 4 },
		{ "Extractable", 4 },		{ "Never Extractable", 4 },
		{ "Description", 4 },		{ "Comment", 4 },
		{ "PKCS#12 Friendly Name", 4 },
	};
	size_t	 i;
	int	 minor;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		/* Found by bsearch: the table is still sorted. */
		ATF_CHECK_MSG(kmip_attr_tag(t[i].name) != -1, "%s",
		    t[i].name);
		for (minor = 0; minor <= 4; minor++)
			ATF_CHECK_EQ_MSG(kmip_attr_in_version(t[i].name, 1,
			    minor), minor >= t[i].since, "%s in 1.%d",
			    t[i].name, minor);
	}
	/* Custom attributes are 1.0's; what is not ours passes. */
	ATF_CHECK(kmip_attr_in_version("x-mine", 1, 0));
	ATF_CHECK(kmip_attr_in_version("no such attribute", 1, 0));
	ATF_CHECK(kmip_attr_in_version("Sensitive", 2, 0));
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, reason_in_version);
	ATF_TP_ADD_TC(tp, reason_equivalents);
	ATF_TP_ADD_TC(tp, attr_in_version);
	return (atf_no_error());
}
