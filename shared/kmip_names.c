/*
 * Names for KMIP tags, attributes and operations: the first two for
 * logs and ttlv_dump(), the attribute table because KMIP 1.x carries an
 * attribute as a (name, value) pair and the engine works with tags.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hsmmsg.h"
#include "kmip.h"

struct attr_name {
	const char	*name;
	uint32_t	 tag;
	int		 since;		/* first KMIP 1.x minor version */
};

static int	attr_cmp(const void *, const void *);

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Indexed by tag - KMIP_TAG_BASE; the specification's numbers are dense. */
#define KMIP_TAG_BASE	0x420000
#define T(n, s)		[KMIP_TAG_##n - KMIP_TAG_BASE] = s
static const char *const tag_names[] = {
	T(ACTIVATION_DATE, "Activation Date"),
	T(APPLICATION_DATA, "Application Data"),
	T(APPLICATION_NAMESPACE, "Application Namespace"),
	T(APPLICATION_SPECIFIC_INFORMATION, "Application Specific Information"),
	T(ARCHIVE_DATE, "Archive Date"),
	T(ASYNCHRONOUS_CORRELATION_VALUE, "Asynchronous Correlation Value"),
	T(ASYNCHRONOUS_INDICATOR, "Asynchronous Indicator"),
	T(ATTRIBUTE, "Attribute"),
	T(ATTRIBUTE_INDEX, "Attribute Index"),
	T(ATTRIBUTE_NAME, "Attribute Name"),
	T(ATTRIBUTE_VALUE, "Attribute Value"),
	T(AUTHENTICATION, "Authentication"),
	T(BATCH_COUNT, "Batch Count"),
	T(BATCH_ERROR_CONTINUATION_OPTION, "Batch Error Continuation Option"),
	T(BATCH_ITEM, "Batch Item"),
	T(BATCH_ORDER_OPTION, "Batch Order Option"),
	T(BLOCK_CIPHER_MODE, "Block Cipher Mode"),
	T(CANCELLATION_RESULT, "Cancellation Result"),
	T(CERTIFICATE, "Certificate"),
	T(CERTIFICATE_IDENTIFIER, "Certificate Identifier"),
	T(CERTIFICATE_ISSUER, "Certificate Issuer"),
	T(CERTIFICATE_ISSUER_ALTERNATIVE_NAME,
	    "Certificate Issuer Alternative Name"),
	T(CERTIFICATE_ISSUER_DISTINGUISHED_NAME,
	    "Certificate Issuer Distinguished Name"),
	T(CERTIFICATE_REQUEST, "Certificate Request"),
	T(CERTIFICATE_REQUEST_TYPE, "Certificate Request Type"),
	T(CERTIFICATE_SUBJECT, "Certificate Subject"),
	T(CERTIFICATE_SUBJECT_ALTERNATIVE_NAME,
	    "Certificate Subject Alternative Name"),
	T(CERTIFICATE_SUBJECT_DISTINGUISHED_NAME,
	    "Certificate Subject Distinguished Name"),
	T(CERTIFICATE_TYPE, "Certificate Type"),
	T(CERTIFICATE_VALUE, "Certificate Value"),
	T(COMMON_TEMPLATE_ATTRIBUTE, "Common Template Attribute"),
	T(COMPROMISE_DATE, "Compromise Date"),
	T(COMPROMISE_OCCURRENCE_DATE, "Compromise Occurrence Date"),
	T(CONTACT_INFORMATION, "Contact Information"),
	T(CREDENTIAL, "Credential"),
	T(CREDENTIAL_TYPE, "Credential Type"),
	T(CREDENTIAL_VALUE, "Credential Value"),
	T(CRITICALITY_INDICATOR, "Criticality Indicator"),
	T(CRT_COEFFICIENT, "CRT Coefficient"),
	T(CRYPTOGRAPHIC_ALGORITHM, "Cryptographic Algorithm"),
	T(CRYPTOGRAPHIC_DOMAIN_PARAMETERS, "Cryptographic Domain Parameters"),
	T(CRYPTOGRAPHIC_LENGTH, "Cryptographic Length"),
	T(CRYPTOGRAPHIC_PARAMETERS, "Cryptographic Parameters"),
	T(CRYPTOGRAPHIC_USAGE_MASK, "Cryptographic Usage Mask"),
	T(CUSTOM_ATTRIBUTE, "Custom Attribute"),
	T(D, "D"),
	T(DEACTIVATION_DATE, "Deactivation Date"),
	T(DERIVATION_DATA, "Derivation Data"),
	T(DERIVATION_METHOD, "Derivation Method"),
	T(DERIVATION_PARAMETERS, "Derivation Parameters"),
	T(DESTROY_DATE, "Destroy Date"),
	T(DIGEST, "Digest"),
	T(DIGEST_VALUE, "Digest Value"),
	T(ENCRYPTION_KEY_INFORMATION, "Encryption Key Information"),
	T(G, "G"),
	T(HASHING_ALGORITHM, "Hashing Algorithm"),
	T(INITIAL_DATE, "Initial Date"),
	T(INITIALIZATION_VECTOR, "Initialization Vector"),
	T(ISSUER, "Issuer"),
	T(ITERATION_COUNT, "Iteration Count"),
	T(IV_COUNTER_NONCE, "IV/Counter/Nonce"),
	T(J, "J"),
	T(KEY, "Key"),
	T(KEY_BLOCK, "Key Block"),
	T(KEY_COMPRESSION_TYPE, "Key Compression Type"),
	T(KEY_FORMAT_TYPE, "Key Format Type"),
	T(KEY_MATERIAL, "Key Material"),
	T(KEY_PART_IDENTIFIER, "Key Part Identifier"),
	T(KEY_VALUE, "Key Value"),
	T(KEY_WRAPPING_DATA, "Key Wrapping Data"),
	T(KEY_WRAPPING_SPECIFICATION, "Key Wrapping Specification"),
	T(LAST_CHANGE_DATE, "Last Change Date"),
	T(LEASE_TIME, "Lease Time"),
	T(LINK, "Link"),
	T(LINK_TYPE, "Link Type"),
	T(LINKED_OBJECT_IDENTIFIER, "Linked Object Identifier"),
	T(MAC_SIGNATURE, "MAC/Signature"),
	T(MAC_SIGNATURE_KEY_INFORMATION, "MAC/Signature Key Information"),
	T(MAXIMUM_ITEMS, "Maximum Items"),
	T(MAXIMUM_RESPONSE_SIZE, "Maximum Response Size"),
	T(MESSAGE_EXTENSION, "Message Extension"),
	T(MODULUS, "Modulus"),
	T(NAME, "Name"),
	T(NAME_TYPE, "Name Type"),
	T(NAME_VALUE, "Name Value"),
	T(OBJECT_GROUP, "Object Group"),
	T(OBJECT_TYPE, "Object Type"),
	T(OFFSET, "Offset"),
	T(OPAQUE_DATA_TYPE, "Opaque Data Type"),
	T(OPAQUE_DATA_VALUE, "Opaque Data Value"),
	T(OPAQUE_OBJECT, "Opaque Object"),
	T(OPERATION, "Operation"),
	T(OPERATION_POLICY_NAME, "Operation Policy Name"),
	T(P, "P"),
	T(PADDING_METHOD, "Padding Method"),
	T(PRIME_EXPONENT_P, "Prime Exponent P"),
	T(PRIME_EXPONENT_Q, "Prime Exponent Q"),
	T(PRIME_FIELD_SIZE, "Prime Field Size"),
	T(PRIVATE_EXPONENT, "Private Exponent"),
	T(PRIVATE_KEY, "Private Key"),
	T(PRIVATE_KEY_TEMPLATE_ATTRIBUTE, "Private Key Template Attribute"),
	T(PRIVATE_KEY_UNIQUE_IDENTIFIER, "Private Key Unique Identifier"),
	T(PROCESS_START_DATE, "Process Start Date"),
	T(PROTECT_STOP_DATE, "Protect Stop Date"),
	T(PROTOCOL_VERSION, "Protocol Version"),
	T(PROTOCOL_VERSION_MAJOR, "Protocol Version Major"),
	T(PROTOCOL_VERSION_MINOR, "Protocol Version Minor"),
	T(PUBLIC_EXPONENT, "Public Exponent"),
	T(PUBLIC_KEY, "Public Key"),
	T(PUBLIC_KEY_TEMPLATE_ATTRIBUTE, "Public Key Template Attribute"),
	T(PUBLIC_KEY_UNIQUE_IDENTIFIER, "Public Key Unique Identifier"),
	T(PUT_FUNCTION, "Put Function"),
	T(Q, "Q"),
	T(Q_STRING, "Q String"),
	T(Q_LENGTH, "Q Length"),
	T(QUERY_FUNCTION, "Query Function"),
	T(RECOMMENDED_CURVE, "Recommended Curve"),
	T(REPLACED_UNIQUE_IDENTIFIER, "Replaced Unique Identifier"),
	T(REQUEST_HEADER, "Request Header"),
	T(REQUEST_MESSAGE, "Request Message"),
	T(REQUEST_PAYLOAD, "Request Payload"),
	T(RESPONSE_HEADER, "Response Header"),
	T(RESPONSE_MESSAGE, "Response Message"),
	T(RESPONSE_PAYLOAD, "Response Payload"),
	T(RESULT_MESSAGE, "Result Message"),
	T(RESULT_REASON, "Result Reason"),
	T(RESULT_STATUS, "Result Status"),
	T(REVOCATION_MESSAGE, "Revocation Message"),
	T(REVOCATION_REASON, "Revocation Reason"),
	T(REVOCATION_REASON_CODE, "Revocation Reason Code"),
	T(KEY_ROLE_TYPE, "Key Role Type"),
	T(SALT, "Salt"),
	T(SECRET_DATA, "Secret Data"),
	T(SECRET_DATA_TYPE, "Secret Data Type"),
	T(SERIAL_NUMBER, "Serial Number"),
	T(SERVER_INFORMATION, "Server Information"),
	T(SPLIT_KEY, "Split Key"),
	T(SPLIT_KEY_METHOD, "Split Key Method"),
	T(SPLIT_KEY_PARTS, "Split Key Parts"),
	T(SPLIT_KEY_THRESHOLD, "Split Key Threshold"),
	T(STATE, "State"),
	T(STORAGE_STATUS_MASK, "Storage Status Mask"),
	T(SYMMETRIC_KEY, "Symmetric Key"),
	T(TEMPLATE, "Template"),
	T(TEMPLATE_ATTRIBUTE, "Template Attribute"),
	T(TIME_STAMP, "Time Stamp"),
	T(UNIQUE_BATCH_ITEM_ID, "Unique Batch Item ID"),
	T(UNIQUE_IDENTIFIER, "Unique Identifier"),
	T(USAGE_LIMITS, "Usage Limits"),
	T(USAGE_LIMITS_COUNT, "Usage Limits Count"),
	T(USAGE_LIMITS_TOTAL, "Usage Limits Total"),
	T(USAGE_LIMITS_UNIT, "Usage Limits Unit"),
	T(USERNAME, "Username"),
	T(VALIDITY_DATE, "Validity Date"),
	T(VALIDITY_INDICATOR, "Validity Indicator"),
	T(VENDOR_EXTENSION, "Vendor Extension"),
	T(VENDOR_IDENTIFICATION, "Vendor Identification"),
	T(WRAPPING_METHOD, "Wrapping Method"),
	T(X, "X"),
	T(Y, "Y"),
	T(PASSWORD, "Password"),
	T(DEVICE_IDENTIFIER, "Device Identifier"),
	T(ENCODING_OPTION, "Encoding Option"),
	T(EXTENSION_INFORMATION, "Extension Information"),
	T(EXTENSION_NAME, "Extension Name"),
	T(EXTENSION_TAG, "Extension Tag"),
	T(EXTENSION_TYPE, "Extension Type"),
	T(FRESH, "Fresh"),
	T(MACHINE_IDENTIFIER, "Machine Identifier"),
	T(MEDIA_IDENTIFIER, "Media Identifier"),
	T(NETWORK_IDENTIFIER, "Network Identifier"),
	T(OBJECT_GROUP_MEMBER, "Object Group Member"),
	T(CERTIFICATE_LENGTH, "Certificate Length"),
	T(DIGITAL_SIGNATURE_ALGORITHM, "Digital Signature Algorithm"),
	T(CERTIFICATE_SERIAL_NUMBER, "Certificate Serial Number"),
	T(DEVICE_SERIAL_NUMBER, "Device Serial Number"),
	T(ISSUER_ALTERNATIVE_NAME, "Issuer Alternative Name"),
	T(ISSUER_DISTINGUISHED_NAME, "Issuer Distinguished Name"),
	T(SUBJECT_ALTERNATIVE_NAME, "Subject Alternative Name"),
	T(SUBJECT_DISTINGUISHED_NAME, "Subject Distinguished Name"),
	T(X509_CERTIFICATE_IDENTIFIER, "X.509 Certificate Identifier"),
	T(X509_CERTIFICATE_ISSUER, "X.509 Certificate Issuer"),
	T(X509_CERTIFICATE_SUBJECT, "X.509 Certificate Subject"),
	T(KEY_VALUE_LOCATION, "Key Value Location"),
	T(KEY_VALUE_LOCATION_VALUE, "Key Value Location Value"),
	T(KEY_VALUE_LOCATION_TYPE, "Key Value Location Type"),
	T(KEY_VALUE_PRESENT, "Key Value Present"),
	T(ORIGINAL_CREATION_DATE, "Original Creation Date"),
	T(PGP_KEY, "PGP Key"),
	T(PGP_KEY_VERSION, "PGP Key Version"),
	T(ALTERNATIVE_NAME, "Alternative Name"),
	T(ALTERNATIVE_NAME_VALUE, "Alternative Name Value"),
	T(ALTERNATIVE_NAME_TYPE, "Alternative Name Type"),
	T(DATA, "Data"),
	T(SIGNATURE_DATA, "Signature Data"),
	T(DATA_LENGTH, "Data Length"),
	T(RANDOM_IV, "Random IV"),
	T(MAC_DATA, "MAC Data"),
	T(ATTESTATION_TYPE, "Attestation Type"),
	T(NONCE, "Nonce"),
	T(NONCE_ID, "Nonce ID"),
	T(NONCE_VALUE, "Nonce Value"),
	T(ATTESTATION_MEASUREMENT, "Attestation Measurement"),
	T(ATTESTATION_ASSERTION, "Attestation Assertion"),
	T(IV_LENGTH, "IV Length"),
	T(TAG_LENGTH, "Tag Length"),
	T(FIXED_FIELD_LENGTH, "Fixed Field Length"),
	T(COUNTER_LENGTH, "Counter Length"),
	T(INITIAL_COUNTER_VALUE, "Initial Counter Value"),
	T(INVOCATION_FIELD_LENGTH, "Invocation Field Length"),
	T(ATTESTATION_CAPABLE_INDICATOR, "Attestation Capable Indicator"),
	T(OFFSET_ITEMS, "Offset Items"),
	T(LOCATED_ITEMS, "Located Items"),
	T(CORRELATION_VALUE, "Correlation Value"),
	T(INIT_INDICATOR, "Init Indicator"),
	T(FINAL_INDICATOR, "Final Indicator"),
	T(RNG_PARAMETERS, "RNG Parameters"),
	T(RNG_ALGORITHM, "RNG Algorithm"),
	T(DRBG_ALGORITHM, "DRBG Algorithm"),
	T(FIPS186_VARIATION, "FIPS186 Variation"),
	T(PREDICTION_RESISTANCE, "Prediction Resistance"),
	T(RANDOM_NUMBER_GENERATOR, "Random Number Generator"),
	T(VALIDATION_INFORMATION, "Validation Information"),
	T(VALIDATION_AUTHORITY_TYPE, "Validation Authority Type"),
	T(VALIDATION_AUTHORITY_COUNTRY, "Validation Authority Country"),
	T(VALIDATION_AUTHORITY_URI, "Validation Authority URI"),
	T(VALIDATION_VERSION_MAJOR, "Validation Version Major"),
	T(VALIDATION_VERSION_MINOR, "Validation Version Minor"),
	T(VALIDATION_TYPE, "Validation Type"),
	T(VALIDATION_LEVEL, "Validation Level"),
	T(VALIDATION_CERTIFICATE_IDENTIFIER,
	    "Validation Certificate Identifier"),
	T(VALIDATION_CERTIFICATE_URI, "Validation Certificate URI"),
	T(VALIDATION_VENDOR_URI, "Validation Vendor URI"),
	T(VALIDATION_PROFILE, "Validation Profile"),
	T(PROFILE_INFORMATION, "Profile Information"),
	T(PROFILE_NAME, "Profile Name"),
	T(SERVER_URI, "Server URI"),
	T(SERVER_PORT, "Server Port"),
	T(STREAMING_CAPABILITY, "Streaming Capability"),
	T(ASYNCHRONOUS_CAPABILITY, "Asynchronous Capability"),
	T(ATTESTATION_CAPABILITY, "Attestation Capability"),
	T(UNWRAP_MODE, "Unwrap Mode"),
	T(DESTROY_ACTION, "Destroy Action"),
	T(SHREDDING_ALGORITHM, "Shredding Algorithm"),
	T(RNG_MODE, "RNG Mode"),
	T(CLIENT_REGISTRATION_METHOD, "Client Registration Method"),
	T(CAPABILITY_INFORMATION, "Capability Information"),
	T(KEY_WRAP_TYPE, "Key Wrap Type"),
	T(BATCH_UNDO_CAPABILITY, "Batch Undo Capability"),
	T(BATCH_CONTINUE_CAPABILITY, "Batch Continue Capability"),
	T(PKCS12_FRIENDLY_NAME, "PKCS#12 Friendly Name"),
	T(DESCRIPTION, "Description"),
	T(COMMENT, "Comment"),
	T(AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA,
	    "Authenticated Encryption Additional Data"),
	T(AUTHENTICATED_ENCRYPTION_TAG, "Authenticated Encryption Tag"),
	T(SALT_LENGTH, "Salt Length"),
	T(MASK_GENERATOR, "Mask Generator"),
	T(MASK_GENERATOR_HASHING_ALGORITHM, "Mask Generator Hashing Algorithm"),
	T(P_SOURCE, "P Source"),
	T(TRAILER_FIELD, "Trailer Field"),
	T(CLIENT_CORRELATION_VALUE, "Client Correlation Value"),
	T(SERVER_CORRELATION_VALUE, "Server Correlation Value"),
	T(DIGESTED_DATA, "Digested Data"),
	T(CERTIFICATE_SUBJECT_CN, "Certificate Subject CN"),
	T(CERTIFICATE_SUBJECT_O, "Certificate Subject O"),
	T(CERTIFICATE_SUBJECT_OU, "Certificate Subject OU"),
	T(CERTIFICATE_SUBJECT_EMAIL, "Certificate Subject Email"),
	T(CERTIFICATE_SUBJECT_C, "Certificate Subject C"),
	T(CERTIFICATE_SUBJECT_ST, "Certificate Subject ST"),
	T(CERTIFICATE_SUBJECT_L, "Certificate Subject L"),
	T(CERTIFICATE_SUBJECT_UID, "Certificate Subject UID"),
	T(CERTIFICATE_SUBJECT_SERIAL_NUMBER,
	    "Certificate Subject Serial Number"),
	T(CERTIFICATE_SUBJECT_TITLE, "Certificate Subject Title"),
	T(CERTIFICATE_SUBJECT_DC, "Certificate Subject DC"),
	T(CERTIFICATE_SUBJECT_DN_QUALIFIER, "Certificate Subject DN Qualifier"),
	T(CERTIFICATE_ISSUER_CN, "Certificate Issuer CN"),
	T(CERTIFICATE_ISSUER_O, "Certificate Issuer O"),
	T(CERTIFICATE_ISSUER_OU, "Certificate Issuer OU"),
	T(CERTIFICATE_ISSUER_EMAIL, "Certificate Issuer Email"),
	T(CERTIFICATE_ISSUER_C, "Certificate Issuer C"),
	T(CERTIFICATE_ISSUER_ST, "Certificate Issuer ST"),
	T(CERTIFICATE_ISSUER_L, "Certificate Issuer L"),
	T(CERTIFICATE_ISSUER_UID, "Certificate Issuer UID"),
	T(CERTIFICATE_ISSUER_SERIAL_NUMBER, "Certificate Issuer Serial Number"),
	T(CERTIFICATE_ISSUER_TITLE, "Certificate Issuer Title"),
	T(CERTIFICATE_ISSUER_DC, "Certificate Issuer DC"),
	T(CERTIFICATE_ISSUER_DN_QUALIFIER, "Certificate Issuer DN Qualifier"),
	T(SENSITIVE, "Sensitive"),
	T(ALWAYS_SENSITIVE, "Always Sensitive"),
	T(EXTRACTABLE, "Extractable"),
	T(NEVER_EXTRACTABLE, "Never Extractable"),
	T(REPLACE_EXISTING, "Replace Existing"),
	T(ATTRIBUTES, "Attributes"),
	T(COMMON_ATTRIBUTES, "Common Attributes"),
	T(PRIVATE_KEY_ATTRIBUTES, "Private Key Attributes"),
	T(PUBLIC_KEY_ATTRIBUTES, "Public Key Attributes"),
	T(EXTENSION_ENUMERATION, "Extension Enumeration"),
	T(EXTENSION_ATTRIBUTE, "Extension Attribute"),
	T(EXTENSION_PARENT_STRUCTURE_TAG, "Extension Parent Structure Tag"),
	T(EXTENSION_DESCRIPTION, "Extension Description"),
	T(SERVER_NAME, "Server Name"),
	T(SERVER_SERIAL_NUMBER, "Server Serial Number"),
	T(SERVER_VERSION, "Server Version"),
	T(SERVER_LOAD, "Server Load"),
	T(PRODUCT_NAME, "Product Name"),
	T(BUILD_LEVEL, "Build Level"),
	T(BUILD_DATE, "Build Date"),
	T(CLUSTER_INFO, "Cluster Info"),
	T(ALTERNATE_FAILOVER_ENDPOINTS, "Alternate Failover Endpoints"),
	T(SHORT_UNIQUE_IDENTIFIER, "Short Unique Identifier"),
	T(TAG, "Tag"),
	T(CERTIFICATE_REQUEST_UNIQUE_IDENTIFIER,
	    "Certificate Request Unique Identifier"),
	T(NIST_KEY_TYPE, "NIST Key Type"),
	T(ATTRIBUTE_REFERENCE, "Attribute Reference"),
	T(CURRENT_ATTRIBUTE, "Current Attribute"),
	T(NEW_ATTRIBUTE, "New Attribute"),
	T(CERTIFICATE_REQUEST_VALUE, "Certificate Request Value"),
	T(LOG_MESSAGE, "Log Message"),
	T(PROFILE_VERSION, "Profile Version"),
	T(PROFILE_VERSION_MAJOR, "Profile Version Major"),
	T(PROFILE_VERSION_MINOR, "Profile Version Minor"),
	T(PROTECTION_LEVEL, "Protection Level"),
	T(PROTECTION_PERIOD, "Protection Period"),
	T(QUANTUM_SAFE, "Quantum Safe"),
	T(QUANTUM_SAFE_CAPABILITY, "Quantum Safe Capability"),
	T(TICKET, "Ticket"),
	T(TICKET_TYPE, "Ticket Type"),
	T(TICKET_VALUE, "Ticket Value"),
	T(REQUEST_COUNT, "Request Count"),
	T(RIGHTS, "Rights"),
	T(OBJECTS, "Objects"),
	T(OPERATIONS, "Operations"),
	T(RIGHT, "Right"),
	T(ENDPOINT_ROLE, "Endpoint Role"),
	T(DEFAULTS_INFORMATION, "Defaults Information"),
	T(OBJECT_DEFAULTS, "Object Defaults"),
	T(EPHEMERAL, "Ephemeral"),
	T(SERVER_HASHED_PASSWORD, "Server Hashed Password"),
	T(ONE_TIME_PASSWORD, "One Time Password"),
	T(HASHED_PASSWORD, "Hashed Password"),
	T(ADJUSTMENT_TYPE, "Adjustment Type"),
	T(PKCS11_INTERFACE, "PKCS#11 Interface"),
	T(PKCS11_FUNCTION, "PKCS#11 Function"),
	T(PKCS11_INPUT_PARAMETERS, "PKCS#11 Input Parameters"),
	T(PKCS11_OUTPUT_PARAMETERS, "PKCS#11 Output Parameters"),
	T(PKCS11_RETURN_CODE, "PKCS#11 Return Code"),
	T(PROTECTION_STORAGE_MASK, "Protection Storage Mask"),
	T(PROTECTION_STORAGE_MASKS, "Protection Storage Masks"),
	T(INTEROP_FUNCTION, "Interop Function"),
	T(INTEROP_IDENTIFIER, "Interop Identifier"),
	T(ADJUSTMENT_VALUE, "Adjustment Value"),
	T(COMMON_PROTECTION_STORAGE_MASKS, "Common Protection Storage Masks"),
	T(PRIVATE_PROTECTION_STORAGE_MASKS, "Private Protection Storage Masks"),
	T(PUBLIC_PROTECTION_STORAGE_MASKS, "Public Protection Storage Masks"),
};
#undef T

/*
 * The KMIP 1.x attributes by the names clients put in Attribute Name,
 * with the minor version of KMIP 1.x that defined each (the attribute
 * sections of the 1.0 to 1.4 specifications): a response carries only
 * attributes its client's version knows.  Sorted by strcmp() order for
 * bsearch(); Custom Attribute has no fixed name (it is any name starting
 * "x-" or "y-"), exists since 1.0 and is handled apart.
 */
static const struct attr_name attr_names[] = {
	{ "Activation Date",		KMIP_TAG_ACTIVATION_DATE, 0 },
	{ "Alternative Name",		KMIP_TAG_ALTERNATIVE_NAME, 2 },
	{ "Always Sensitive",		KMIP_TAG_ALWAYS_SENSITIVE, 4 },
	{ "Application Specific Information",
	    KMIP_TAG_APPLICATION_SPECIFIC_INFORMATION, 0 },
	{ "Archive Date",		KMIP_TAG_ARCHIVE_DATE, 0 },
	{ "Certificate Identifier",	KMIP_TAG_CERTIFICATE_IDENTIFIER, 0 },
	{ "Certificate Issuer",		KMIP_TAG_CERTIFICATE_ISSUER, 0 },
	{ "Certificate Length",		KMIP_TAG_CERTIFICATE_LENGTH, 1 },
	{ "Certificate Subject",	KMIP_TAG_CERTIFICATE_SUBJECT, 0 },
	{ "Certificate Type",		KMIP_TAG_CERTIFICATE_TYPE, 0 },
	{ "Comment",			KMIP_TAG_COMMENT, 4 },
	{ "Compromise Date",		KMIP_TAG_COMPROMISE_DATE, 0 },
	{ "Compromise Occurrence Date",
	    KMIP_TAG_COMPROMISE_OCCURRENCE_DATE, 0 },
	{ "Contact Information",	KMIP_TAG_CONTACT_INFORMATION, 0 },
	{ "Cryptographic Algorithm",	KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM, 0 },
	{ "Cryptographic Domain Parameters",
	    KMIP_TAG_CRYPTOGRAPHIC_DOMAIN_PARAMETERS, 0 },
	{ "Cryptographic Length",	KMIP_TAG_CRYPTOGRAPHIC_LENGTH, 0 },
	{ "Cryptographic Parameters",	KMIP_TAG_CRYPTOGRAPHIC_PARAMETERS, 0 },
	{ "Cryptographic Usage Mask",	KMIP_TAG_CRYPTOGRAPHIC_USAGE_MASK, 0 },
	{ "Deactivation Date",		KMIP_TAG_DEACTIVATION_DATE, 0 },
	{ "Description",		KMIP_TAG_DESCRIPTION, 4 },
	{ "Destroy Date",		KMIP_TAG_DESTROY_DATE, 0 },
	{ "Digest",			KMIP_TAG_DIGEST, 0 },
	{ "Digital Signature Algorithm",
	    KMIP_TAG_DIGITAL_SIGNATURE_ALGORITHM, 1 },
	{ "Extractable",		KMIP_TAG_EXTRACTABLE, 4 },
	{ "Fresh",			KMIP_TAG_FRESH, 1 },
	{ "Initial Date",		KMIP_TAG_INITIAL_DATE, 0 },
	{ "Key Value Location",		KMIP_TAG_KEY_VALUE_LOCATION, 2 },
	{ "Key Value Present",		KMIP_TAG_KEY_VALUE_PRESENT, 2 },
	{ "Last Change Date",		KMIP_TAG_LAST_CHANGE_DATE, 0 },
	{ "Lease Time",			KMIP_TAG_LEASE_TIME, 0 },
	{ "Link",			KMIP_TAG_LINK, 0 },
	{ "Name",			KMIP_TAG_NAME, 0 },
	{ "Never Extractable",		KMIP_TAG_NEVER_EXTRACTABLE, 4 },
	{ "Object Group",		KMIP_TAG_OBJECT_GROUP, 0 },
	{ "Object Type",		KMIP_TAG_OBJECT_TYPE, 0 },
	{ "Operation Policy Name",	KMIP_TAG_OPERATION_POLICY_NAME, 0 },
	{ "Original Creation Date",	KMIP_TAG_ORIGINAL_CREATION_DATE, 2 },
	{ "PKCS#12 Friendly Name",	KMIP_TAG_PKCS12_FRIENDLY_NAME, 4 },
	{ "Process Start Date",		KMIP_TAG_PROCESS_START_DATE, 0 },
	{ "Protect Stop Date",		KMIP_TAG_PROTECT_STOP_DATE, 0 },
	{ "Random Number Generator",	KMIP_TAG_RANDOM_NUMBER_GENERATOR, 3 },
	{ "Revocation Reason",		KMIP_TAG_REVOCATION_REASON, 0 },
	{ "Sensitive",			KMIP_TAG_SENSITIVE, 4 },
	{ "State",			KMIP_TAG_STATE, 0 },
	{ "Unique Identifier",		KMIP_TAG_UNIQUE_IDENTIFIER, 0 },
	{ "Usage Limits",		KMIP_TAG_USAGE_LIMITS, 0 },
	{ "X.509 Certificate Identifier",
	    KMIP_TAG_X509_CERTIFICATE_IDENTIFIER, 1 },
	{ "X.509 Certificate Issuer",	KMIP_TAG_X509_CERTIFICATE_ISSUER, 1 },
	{ "X.509 Certificate Subject",	KMIP_TAG_X509_CERTIFICATE_SUBJECT, 1 },
};

static const char *const op_names[] = {
	[KMIP_OP_CREATE] = "Create",
	[KMIP_OP_CREATE_KEY_PAIR] = "Create Key Pair",
	[KMIP_OP_REGISTER] = "Register",
	[KMIP_OP_REKEY] = "Re-key",
	[KMIP_OP_DERIVE_KEY] = "Derive Key",
	[KMIP_OP_CERTIFY] = "Certify",
	[KMIP_OP_RECERTIFY] = "Re-certify",
	[KMIP_OP_LOCATE] = "Locate",
	[KMIP_OP_CHECK] = "Check",
	[KMIP_OP_GET] = "Get",
	[KMIP_OP_GET_ATTRIBUTES] = "Get Attributes",
	[KMIP_OP_GET_ATTRIBUTE_LIST] = "Get Attribute List",
	[KMIP_OP_ADD_ATTRIBUTE] = "Add Attribute",
	[KMIP_OP_MODIFY_ATTRIBUTE] = "Modify Attribute",
	[KMIP_OP_DELETE_ATTRIBUTE] = "Delete Attribute",
	[KMIP_OP_OBTAIN_LEASE] = "Obtain Lease",
	[KMIP_OP_GET_USAGE_ALLOCATION] = "Get Usage Allocation",
	[KMIP_OP_ACTIVATE] = "Activate",
	[KMIP_OP_REVOKE] = "Revoke",
	[KMIP_OP_DESTROY] = "Destroy",
	[KMIP_OP_ARCHIVE] = "Archive",
	[KMIP_OP_RECOVER] = "Recover",
	[KMIP_OP_VALIDATE] = "Validate",
	[KMIP_OP_QUERY] = "Query",
	[KMIP_OP_CANCEL] = "Cancel",
	[KMIP_OP_POLL] = "Poll",
	[KMIP_OP_NOTIFY] = "Notify",
	[KMIP_OP_PUT] = "Put",
	[KMIP_OP_REKEY_KEY_PAIR] = "Re-key Key Pair",
	[KMIP_OP_DISCOVER_VERSIONS] = "Discover Versions",
	[KMIP_OP_ENCRYPT] = "Encrypt",
	[KMIP_OP_DECRYPT] = "Decrypt",
	[KMIP_OP_SIGN] = "Sign",
	[KMIP_OP_SIGNATURE_VERIFY] = "Signature Verify",
	[KMIP_OP_MAC] = "MAC",
	[KMIP_OP_MAC_VERIFY] = "MAC Verify",
	[KMIP_OP_RNG_RETRIEVE] = "RNG Retrieve",
	[KMIP_OP_RNG_SEED] = "RNG Seed",
	[KMIP_OP_HASH] = "Hash",
	[KMIP_OP_CREATE_SPLIT_KEY] = "Create Split Key",
	[KMIP_OP_JOIN_SPLIT_KEY] = "Join Split Key",
	[KMIP_OP_IMPORT] = "Import",
	[KMIP_OP_EXPORT] = "Export",
	[KMIP_OP_LOG] = "Log",
	[KMIP_OP_LOGIN] = "Login",
	[KMIP_OP_LOGOUT] = "Logout",
	[KMIP_OP_DELEGATED_LOGIN] = "Delegated Login",
	[KMIP_OP_ADJUST_ATTRIBUTE] = "Adjust Attribute",
	[KMIP_OP_SET_ATTRIBUTE] = "Set Attribute",
	[KMIP_OP_SET_ENDPOINT_ROLE] = "Set Endpoint Role",
	[KMIP_OP_PKCS_11] = "PKCS#11",
	[KMIP_OP_INTEROP] = "Interop",
	[KMIP_OP_REPROVISION] = "Reprovision",
};

const char *
kmip_tag_name(uint32_t tag)
{
	if (tag < KMIP_TAG_BASE ||
	    tag - KMIP_TAG_BASE >= NELEM(tag_names))
		return (NULL);
	return (tag_names[tag - KMIP_TAG_BASE]);
}

static int
attr_cmp(const void *k, const void *e)
{
	const struct attr_name	*a = e;

	return (strcmp(k, a->name));
}

/* The tag of a named attribute, or -1 if the name is not one of ours. */
int
kmip_attr_tag(const char *name)
{
	const struct attr_name	*a;

	if (name == NULL)
		return (-1);
	if ((name[0] == 'x' || name[0] == 'y') && name[1] == '-')
		return (KMIP_TAG_CUSTOM_ATTRIBUTE);
	a = bsearch(name, attr_names, NELEM(attr_names), sizeof(attr_names[0]),
	    attr_cmp);
	if (a == NULL)
		return (-1);
	return (a->tag);
}

/*
 * The attribute name for a tag; NULL for tags that are not attributes
 * and for Custom Attribute, whose name is the client's.
 */
const char *
kmip_attr_name(uint32_t tag)
{
	size_t	 i;

	for (i = 0; i < NELEM(attr_names); i++)
		if (attr_names[i].tag == tag)
			return (attr_names[i].name);
	return (NULL);
}

/*
 * Does KMIP major.minor define the named attribute?  Names not in the
 * table are not ours to judge and pass; 2.0 and later renamed some 1.x
 * attributes, but signerd answers only 1.x.
 */
int
kmip_attr_in_version(const char *name, int major, int minor)
{
	const struct attr_name	*a;

	if (name == NULL || major != 1)
		return (1);
	a = bsearch(name, attr_names, NELEM(attr_names), sizeof(attr_names[0]),
	    attr_cmp);
	if (a == NULL)
		return (1);
	return (minor >= a->since);
}

const char *
kmip_op_name(uint32_t op)
{
	if (op >= NELEM(op_names))
		return (NULL);
	return (op_names[op]);
}

/*
 * Result Reasons newer than the request's protocol version, and the one
 * that version gives for the same failure.  Clients decode the reason as
 * an enumeration they know: Krill's knows only the KMIP 1.0 values and
 * cannot read a response that carries any other.  The 1.x error tables
 * give Permission Denied where 2.0 says Wrong Key Lifecycle State.
 */
static const struct {
	uint32_t	 reason;
	uint32_t	 v1;
} reason_v1[] = {
	{ KMIP_REASON_ENCODING_OPTION_ERROR,	KMIP_REASON_INVALID_FIELD },
	{ KMIP_REASON_KEY_VALUE_NOT_PRESENT,	KMIP_REASON_ITEM_NOT_FOUND },
	{ KMIP_REASON_ATTESTATION_REQUIRED,	KMIP_REASON_PERMISSION_DENIED },
	{ KMIP_REASON_ATTESTATION_FAILED,	KMIP_REASON_PERMISSION_DENIED },
	{ KMIP_REASON_SENSITIVE,		KMIP_REASON_PERMISSION_DENIED },
	{ KMIP_REASON_NOT_EXTRACTABLE,		KMIP_REASON_PERMISSION_DENIED },
	{ KMIP_REASON_OBJECT_ALREADY_EXISTS,	KMIP_REASON_INVALID_FIELD },
	{ KMIP_REASON_INVALID_DATA_TYPE,	KMIP_REASON_INVALID_FIELD },
	{ KMIP_REASON_READ_ONLY_ATTRIBUTE,	KMIP_REASON_PERMISSION_DENIED },
	{ KMIP_REASON_MULTI_VALUED_ATTRIBUTE,	KMIP_REASON_INVALID_FIELD },
	{ KMIP_REASON_UNSUPPORTED_ATTRIBUTE,	KMIP_REASON_INVALID_FIELD },
	{ KMIP_REASON_ATTRIBUTE_INSTANCE_NOT_FOUND, KMIP_REASON_ITEM_NOT_FOUND },
	{ KMIP_REASON_ATTRIBUTE_NOT_FOUND,	KMIP_REASON_ITEM_NOT_FOUND },
	{ KMIP_REASON_ATTRIBUTE_READ_ONLY,	KMIP_REASON_PERMISSION_DENIED },
	{ KMIP_REASON_ATTRIBUTE_SINGLE_VALUED,	KMIP_REASON_INVALID_FIELD },
	{ KMIP_REASON_BAD_CRYPTOGRAPHIC_PARAMETERS, KMIP_REASON_INVALID_FIELD },
	{ KMIP_REASON_BAD_PASSWORD,	KMIP_REASON_AUTHENTICATION_NOT_SUCCESSFUL },
	{ KMIP_REASON_CODEC_ERROR,		KMIP_REASON_INVALID_MESSAGE },
	{ KMIP_REASON_ILLEGAL_OBJECT_TYPE,	KMIP_REASON_INVALID_FIELD },
	{ KMIP_REASON_INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK,
	    KMIP_REASON_PERMISSION_DENIED },
	{ KMIP_REASON_INTERNAL_SERVER_ERROR,	KMIP_REASON_GENERAL_FAILURE },
	{ KMIP_REASON_INVALID_ATTRIBUTE,	KMIP_REASON_INVALID_FIELD },
	{ KMIP_REASON_INVALID_ATTRIBUTE_VALUE,	KMIP_REASON_INVALID_FIELD },
	{ KMIP_REASON_INVALID_OBJECT_TYPE,	KMIP_REASON_INVALID_FIELD },
	{ KMIP_REASON_KEY_WRAP_TYPE_NOT_SUPPORTED,
	    KMIP_REASON_FEATURE_NOT_SUPPORTED },
	{ KMIP_REASON_MISSING_INITIALIZATION_VECTOR, KMIP_REASON_MISSING_DATA },
	{ KMIP_REASON_NON_UNIQUE_NAME_ATTRIBUTE, KMIP_REASON_INVALID_FIELD },
	{ KMIP_REASON_OBJECT_DESTROYED,		KMIP_REASON_ITEM_NOT_FOUND },
	{ KMIP_REASON_OBJECT_NOT_FOUND,		KMIP_REASON_ITEM_NOT_FOUND },
	{ KMIP_REASON_NOT_AUTHORISED,		KMIP_REASON_PERMISSION_DENIED },
	{ KMIP_REASON_SERVER_LIMIT_EXCEEDED,	KMIP_REASON_GENERAL_FAILURE },
	{ KMIP_REASON_UNKNOWN_ENUMERATION,	KMIP_REASON_INVALID_FIELD },
	{ KMIP_REASON_UNKNOWN_TAG,		KMIP_REASON_INVALID_FIELD },
	{ KMIP_REASON_UNSUPPORTED_CRYPTOGRAPHIC_PARAMETERS,
	    KMIP_REASON_INVALID_FIELD },
	{ KMIP_REASON_UNSUPPORTED_PROTOCOL_VERSION,
	    KMIP_REASON_INVALID_MESSAGE },
	{ KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE, KMIP_REASON_PERMISSION_DENIED },
};

/*
 * The Result Reason to send for reason to a client speaking KMIP
 * major.minor.  1.0 to 1.2 get the 1.0 values only (what Krill, which
 * says 1.0 to 1.2, decodes); 1.3 adds those of 1.1 and 1.2, 1.4 those of
 * 1.4.  2.0 and later take every value.
 */
uint32_t
kmip_reason_for_version(uint32_t reason, int major, int minor)
{
	size_t	 i;
	uint32_t newest;

	if (major > 1)
		return (reason);
	if (reason == KMIP_REASON_GENERAL_FAILURE)
		return (reason);
	if (minor <= 2)
		newest = KMIP_REASON_KEY_COMPRESSION_TYPE_NOT_SUPPORTED;
	else if (minor == 3)
		newest = KMIP_REASON_ATTESTATION_FAILED;
	else
		newest = KMIP_REASON_OBJECT_ALREADY_EXISTS;
	if (reason >= KMIP_REASON_ITEM_NOT_FOUND && reason <= newest)
		return (reason);
	for (i = 0; i < NELEM(reason_v1); i++)
		if (reason_v1[i].reason == reason)
			return (reason_v1[i].v1);
	return (KMIP_REASON_GENERAL_FAILURE);
}

/* A signer's key kind (hsmmsg.h), for logs and messages. */
const char *
hsm_kind_name(uint32_t kind)
{
	switch (kind) {
	case HSM_KEY_AES:
		return ("AES");
	case HSM_KEY_HMAC_SHA256:
		return ("HMAC-SHA256");
	case HSM_KEY_HMAC_SHA384:
		return ("HMAC-SHA384");
	case HSM_KEY_HMAC_SHA512:
		return ("HMAC-SHA512");
	case HSM_KEY_RSA:
		return ("RSA");
	case HSM_KEY_EC_P256:
		return ("EC P-256");
	case HSM_KEY_EC_P384:
		return ("EC P-384");
	case HSM_KEY_EC_P521:
		return ("EC P-521");
	case HSM_KEY_ED25519:
		return ("Ed25519");
	case HSM_KEY_SECRET:
		return ("secret data");
	case HSM_KEY_DES3:
		return ("Triple DES");
	}
	return ("unknown");
}

/*
 * The signer's key kind of a key with KMIP Cryptographic Algorithm alg
 * and Cryptographic Length bits (the curve of an EC key).  0, or -1 for
 * an algorithm no signer keeps.
 */
int
hsm_kind_of(uint32_t alg, int32_t bits, uint32_t *kind)
{
	switch (alg) {
	case KMIP_ALG_RSA:
		*kind = HSM_KEY_RSA;
		return (0);
	case KMIP_ALG_ECDSA:
	case KMIP_ALG_EC:
		*kind = bits == 384 ? HSM_KEY_EC_P384 : bits == 521 ?
		    HSM_KEY_EC_P521 : HSM_KEY_EC_P256;
		return (0);
	case KMIP_ALG_ED25519:
		*kind = HSM_KEY_ED25519;
		return (0);
	case KMIP_ALG_AES:
		*kind = HSM_KEY_AES;
		return (0);
	case KMIP_ALG_HMAC_SHA256:
		*kind = HSM_KEY_HMAC_SHA256;
		return (0);
	case KMIP_ALG_HMAC_SHA384:
		*kind = HSM_KEY_HMAC_SHA384;
		return (0);
	case KMIP_ALG_HMAC_SHA512:
		*kind = HSM_KEY_HMAC_SHA512;
		return (0);
	case KMIP_ALG_3DES:
		*kind = HSM_KEY_DES3;
		return (0);
	}
	return (-1);
}
