/*
 * Names of KMIP 1.4 tags, enumerations and usage mask bits as the KMIP
 * JSON and XML encodings spell them (the specification's names without
 * spaces or punctuation, "SHA-256" as SHA_256), for the frontend's
 * converters (msgenc.c).  A value without a name here is written in hex,
 * which both encodings allow, so a missing name loses nothing.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msgenc.h"

struct tag_name {
	const char	*name;
	uint32_t	 tag;
};

struct enum_name {
	uint32_t	 tag;		/* of the enumeration */
	uint32_t	 value;
	const char	*name;
};

struct family {
	uint32_t	 tag;
	uint32_t	 family;	/* the tag of its enumeration */
};

struct alias {
	const char	*name;		/* an Attribute Name */
	uint32_t	 tag;		/* the tag of its enumeration */
};

struct bit {
	const char	*name;
	uint32_t	 bit;
};

struct key {
	const char	*p;
	size_t		 len;
};

static int	 name_cmp(const struct key *, const char *);
static int	 name_order(const void *, const void *);
static int	 tag_by_name(const void *, const void *);
static int	 tag_by_value(const void *, const void *);
static uint32_t	 enum_family(uint32_t, const char *);

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Sorted by tag, for the encoders; the decoders look names up through
 * tags_by_name, made from it once.
 */
static const struct tag_name tags[] = {
	{ "ActivationDate", 0x420001 },
	{ "ApplicationData", 0x420002 },
	{ "ApplicationNamespace", 0x420003 },
	{ "ApplicationSpecificInformation", 0x420004 },
	{ "ArchiveDate", 0x420005 },
	{ "AsynchronousCorrelationValue", 0x420006 },
	{ "AsynchronousIndicator", 0x420007 },
	{ "Attribute", 0x420008 },
	{ "AttributeIndex", 0x420009 },
	{ "AttributeName", 0x42000a },
	{ "AttributeValue", 0x42000b },
	{ "Authentication", 0x42000c },
	{ "BatchCount", 0x42000d },
	{ "BatchErrorContinuationOption", 0x42000e },
	{ "BatchItem", 0x42000f },
	{ "BatchOrderOption", 0x420010 },
	{ "BlockCipherMode", 0x420011 },
	{ "CancellationResult", 0x420012 },
	{ "Certificate", 0x420013 },
	{ "CertificateIdentifier", 0x420014 },
	{ "CertificateIssuer", 0x420015 },
	{ "CertificateIssuerAlternativeName", 0x420016 },
	{ "CertificateIssuerDistinguishedName", 0x420017 },
	{ "CertificateRequest", 0x420018 },
	{ "CertificateRequestType", 0x420019 },
	{ "CertificateSubject", 0x42001a },
	{ "CertificateSubjectAlternativeName", 0x42001b },
	{ "CertificateSubjectDistinguishedName", 0x42001c },
	{ "CertificateType", 0x42001d },
	{ "CertificateValue", 0x42001e },
	{ "CommonTemplateAttribute", 0x42001f },
	{ "CompromiseDate", 0x420020 },
	{ "CompromiseOccurrenceDate", 0x420021 },
	{ "ContactInformation", 0x420022 },
	{ "Credential", 0x420023 },
	{ "CredentialType", 0x420024 },
	{ "CredentialValue", 0x420025 },
	{ "CriticalityIndicator", 0x420026 },
	{ "CRTCoefficient", 0x420027 },
	{ "CryptographicAlgorithm", 0x420028 },
	{ "CryptographicDomainParameters", 0x420029 },
	{ "CryptographicLength", 0x42002a },
	{ "CryptographicParameters", 0x42002b },
	{ "CryptographicUsageMask", 0x42002c },
	{ "CustomAttribute", 0x42002d },
	{ "D", 0x42002e },
	{ "DeactivationDate", 0x42002f },
	{ "DerivationData", 0x420030 },
	{ "DerivationMethod", 0x420031 },
	{ "DerivationParameters", 0x420032 },
	{ "DestroyDate", 0x420033 },
	{ "Digest", 0x420034 },
	{ "DigestValue", 0x420035 },
	{ "EncryptionKeyInformation", 0x420036 },
	{ "G", 0x420037 },
	{ "HashingAlgorithm", 0x420038 },
	{ "InitialDate", 0x420039 },
	{ "InitializationVector", 0x42003a },
	{ "Issuer", 0x42003b },
	{ "IterationCount", 0x42003c },
	{ "IVCounterNonce", 0x42003d },
	{ "J", 0x42003e },
	{ "Key", 0x42003f },
	{ "KeyBlock", 0x420040 },
	{ "KeyCompressionType", 0x420041 },
	{ "KeyFormatType", 0x420042 },
	{ "KeyMaterial", 0x420043 },
	{ "KeyPartIdentifier", 0x420044 },
	{ "KeyValue", 0x420045 },
	{ "KeyWrappingData", 0x420046 },
	{ "KeyWrappingSpecification", 0x420047 },
	{ "LastChangeDate", 0x420048 },
	{ "LeaseTime", 0x420049 },
	{ "Link", 0x42004a },
	{ "LinkType", 0x42004b },
	{ "LinkedObjectIdentifier", 0x42004c },
	{ "MACSignature", 0x42004d },
	{ "MACSignatureKeyInformation", 0x42004e },
	{ "MaximumItems", 0x42004f },
	{ "MaximumResponseSize", 0x420050 },
	{ "MessageExtension", 0x420051 },
	{ "Modulus", 0x420052 },
	{ "Name", 0x420053 },
	{ "NameType", 0x420054 },
	{ "NameValue", 0x420055 },
	{ "ObjectGroup", 0x420056 },
	{ "ObjectType", 0x420057 },
	{ "Offset", 0x420058 },
	{ "OpaqueDataType", 0x420059 },
	{ "OpaqueDataValue", 0x42005a },
	{ "OpaqueObject", 0x42005b },
	{ "Operation", 0x42005c },
	{ "OperationPolicyName", 0x42005d },
	{ "P", 0x42005e },
	{ "PaddingMethod", 0x42005f },
	{ "PrimeExponentP", 0x420060 },
	{ "PrimeExponentQ", 0x420061 },
	{ "PrimeFieldSize", 0x420062 },
	{ "PrivateExponent", 0x420063 },
	{ "PrivateKey", 0x420064 },
	{ "PrivateKeyTemplateAttribute", 0x420065 },
	{ "PrivateKeyUniqueIdentifier", 0x420066 },
	{ "ProcessStartDate", 0x420067 },
	{ "ProtectStopDate", 0x420068 },
	{ "ProtocolVersion", 0x420069 },
	{ "ProtocolVersionMajor", 0x42006a },
	{ "ProtocolVersionMinor", 0x42006b },
	{ "PublicExponent", 0x42006c },
	{ "PublicKey", 0x42006d },
	{ "PublicKeyTemplateAttribute", 0x42006e },
	{ "PublicKeyUniqueIdentifier", 0x42006f },
	{ "PutFunction", 0x420070 },
	{ "Q", 0x420071 },
	{ "QString", 0x420072 },
	{ "QLength", 0x420073 },
	{ "QueryFunction", 0x420074 },
	{ "RecommendedCurve", 0x420075 },
	{ "ReplacedUniqueIdentifier", 0x420076 },
	{ "RequestHeader", 0x420077 },
	{ "RequestMessage", 0x420078 },
	{ "RequestPayload", 0x420079 },
	{ "ResponseHeader", 0x42007a },
	{ "ResponseMessage", 0x42007b },
	{ "ResponsePayload", 0x42007c },
	{ "ResultMessage", 0x42007d },
	{ "ResultReason", 0x42007e },
	{ "ResultStatus", 0x42007f },
	{ "RevocationMessage", 0x420080 },
	{ "RevocationReason", 0x420081 },
	{ "RevocationReasonCode", 0x420082 },
	{ "KeyRoleType", 0x420083 },
	{ "Salt", 0x420084 },
	{ "SecretData", 0x420085 },
	{ "SecretDataType", 0x420086 },
	{ "SerialNumber", 0x420087 },
	{ "ServerInformation", 0x420088 },
	{ "SplitKey", 0x420089 },
	{ "SplitKeyMethod", 0x42008a },
	{ "SplitKeyParts", 0x42008b },
	{ "SplitKeyThreshold", 0x42008c },
	{ "State", 0x42008d },
	{ "StorageStatusMask", 0x42008e },
	{ "SymmetricKey", 0x42008f },
	{ "Template", 0x420090 },
	{ "TemplateAttribute", 0x420091 },
	{ "TimeStamp", 0x420092 },
	{ "UniqueBatchItemID", 0x420093 },
	{ "UniqueIdentifier", 0x420094 },
	{ "UsageLimits", 0x420095 },
	{ "UsageLimitsCount", 0x420096 },
	{ "UsageLimitsTotal", 0x420097 },
	{ "UsageLimitsUnit", 0x420098 },
	{ "Username", 0x420099 },
	{ "ValidityDate", 0x42009a },
	{ "ValidityIndicator", 0x42009b },
	{ "VendorExtension", 0x42009c },
	{ "VendorIdentification", 0x42009d },
	{ "WrappingMethod", 0x42009e },
	{ "X", 0x42009f },
	{ "Y", 0x4200a0 },
	{ "Password", 0x4200a1 },
	{ "DeviceIdentifier", 0x4200a2 },
	{ "EncodingOption", 0x4200a3 },
	{ "ExtensionInformation", 0x4200a4 },
	{ "ExtensionName", 0x4200a5 },
	{ "ExtensionTag", 0x4200a6 },
	{ "ExtensionType", 0x4200a7 },
	{ "Fresh", 0x4200a8 },
	{ "MachineIdentifier", 0x4200a9 },
	{ "MediaIdentifier", 0x4200aa },
	{ "NetworkIdentifier", 0x4200ab },
	{ "ObjectGroupMember", 0x4200ac },
	{ "CertificateLength", 0x4200ad },
	{ "DigitalSignatureAlgorithm", 0x4200ae },
	{ "CertificateSerialNumber", 0x4200af },
	{ "DeviceSerialNumber", 0x4200b0 },
	{ "IssuerAlternativeName", 0x4200b1 },
	{ "IssuerDistinguishedName", 0x4200b2 },
	{ "SubjectAlternativeName", 0x4200b3 },
	{ "SubjectDistinguishedName", 0x4200b4 },
	{ "X509CertificateIdentifier", 0x4200b5 },
	{ "X509CertificateIssuer", 0x4200b6 },
	{ "X509CertificateSubject", 0x4200b7 },
	{ "KeyValueLocation", 0x4200b8 },
	{ "KeyValueLocationValue", 0x4200b9 },
	{ "KeyValueLocationType", 0x4200ba },
	{ "KeyValuePresent", 0x4200bb },
	{ "OriginalCreationDate", 0x4200bc },
	{ "PGPKey", 0x4200bd },
	{ "PGPKeyVersion", 0x4200be },
	{ "AlternativeName", 0x4200bf },
	{ "AlternativeNameValue", 0x4200c0 },
	{ "AlternativeNameType", 0x4200c1 },
	{ "Data", 0x4200c2 },
	{ "SignatureData", 0x4200c3 },
	{ "DataLength", 0x4200c4 },
	{ "RandomIV", 0x4200c5 },
	{ "MACData", 0x4200c6 },
	{ "AttestationType", 0x4200c7 },
	{ "Nonce", 0x4200c8 },
	{ "NonceID", 0x4200c9 },
	{ "NonceValue", 0x4200ca },
	{ "AttestationMeasurement", 0x4200cb },
	{ "AttestationAssertion", 0x4200cc },
	{ "IVLength", 0x4200cd },
	{ "TagLength", 0x4200ce },
	{ "FixedFieldLength", 0x4200cf },
	{ "CounterLength", 0x4200d0 },
	{ "InitialCounterValue", 0x4200d1 },
	{ "InvocationFieldLength", 0x4200d2 },
	{ "AttestationCapableIndicator", 0x4200d3 },
	{ "OffsetItems", 0x4200d4 },
	{ "LocatedItems", 0x4200d5 },
	{ "CorrelationValue", 0x4200d6 },
	{ "InitIndicator", 0x4200d7 },
	{ "FinalIndicator", 0x4200d8 },
	{ "RNGParameters", 0x4200d9 },
	{ "RNGAlgorithm", 0x4200da },
	{ "DRBGAlgorithm", 0x4200db },
	{ "FIPS186Variation", 0x4200dc },
	{ "PredictionResistance", 0x4200dd },
	{ "RandomNumberGenerator", 0x4200de },
	{ "ValidationInformation", 0x4200df },
	{ "ValidationAuthorityType", 0x4200e0 },
	{ "ValidationAuthorityCountry", 0x4200e1 },
	{ "ValidationAuthorityURI", 0x4200e2 },
	{ "ValidationVersionMajor", 0x4200e3 },
	{ "ValidationVersionMinor", 0x4200e4 },
	{ "ValidationType", 0x4200e5 },
	{ "ValidationLevel", 0x4200e6 },
	{ "ValidationCertificateIdentifier", 0x4200e7 },
	{ "ValidationCertificateURI", 0x4200e8 },
	{ "ValidationVendorURI", 0x4200e9 },
	{ "ValidationProfile", 0x4200ea },
	{ "ProfileInformation", 0x4200eb },
	{ "ProfileName", 0x4200ec },
	{ "ServerURI", 0x4200ed },
	{ "ServerPort", 0x4200ee },
	{ "StreamingCapability", 0x4200ef },
	{ "AsynchronousCapability", 0x4200f0 },
	{ "AttestationCapability", 0x4200f1 },
	{ "UnwrapMode", 0x4200f2 },
	{ "DestroyAction", 0x4200f3 },
	{ "ShreddingAlgorithm", 0x4200f4 },
	{ "RNGMode", 0x4200f5 },
	{ "ClientRegistrationMethod", 0x4200f6 },
	{ "CapabilityInformation", 0x4200f7 },
	{ "KeyWrapType", 0x4200f8 },
	{ "BatchUndoCapability", 0x4200f9 },
	{ "BatchContinueCapability", 0x4200fa },
	{ "PKCS12FriendlyName", 0x4200fb },
	{ "Description", 0x4200fc },
	{ "Comment", 0x4200fd },
	{ "AuthenticatedEncryptionAdditionalData", 0x4200fe },
	{ "AuthenticatedEncryptionTag", 0x4200ff },
	{ "SaltLength", 0x420100 },
	{ "MaskGenerator", 0x420101 },
	{ "MaskGeneratorHashingAlgorithm", 0x420102 },
	{ "PSource", 0x420103 },
	{ "TrailerField", 0x420104 },
	{ "ClientCorrelationValue", 0x420105 },
	{ "ServerCorrelationValue", 0x420106 },
	{ "DigestedData", 0x420107 },
	{ "CertificateSubjectCN", 0x420108 },
	{ "CertificateSubjectO", 0x420109 },
	{ "CertificateSubjectOU", 0x42010a },
	{ "CertificateSubjectEmail", 0x42010b },
	{ "CertificateSubjectC", 0x42010c },
	{ "CertificateSubjectST", 0x42010d },
	{ "CertificateSubjectL", 0x42010e },
	{ "CertificateSubjectUID", 0x42010f },
	{ "CertificateSubjectSerialNumber", 0x420110 },
	{ "CertificateSubjectTitle", 0x420111 },
	{ "CertificateSubjectDC", 0x420112 },
	{ "CertificateSubjectDNQualifier", 0x420113 },
	{ "CertificateIssuerCN", 0x420114 },
	{ "CertificateIssuerO", 0x420115 },
	{ "CertificateIssuerOU", 0x420116 },
	{ "CertificateIssuerEmail", 0x420117 },
	{ "CertificateIssuerC", 0x420118 },
	{ "CertificateIssuerST", 0x420119 },
	{ "CertificateIssuerL", 0x42011a },
	{ "CertificateIssuerUID", 0x42011b },
	{ "CertificateIssuerSerialNumber", 0x42011c },
	{ "CertificateIssuerTitle", 0x42011d },
	{ "CertificateIssuerDC", 0x42011e },
	{ "CertificateIssuerDNQualifier", 0x42011f },
	{ "Sensitive", 0x420120 },
	{ "AlwaysSensitive", 0x420121 },
	{ "Extractable", 0x420122 },
	{ "NeverExtractable", 0x420123 },
	{ "ReplaceExisting", 0x420124 },
	{ "Attributes", 0x420125 },
	{ "CommonAttributes", 0x420126 },
	{ "PrivateKeyAttributes", 0x420127 },
	{ "PublicKeyAttributes", 0x420128 },
	{ "ExtensionEnumeration", 0x420129 },
	{ "ExtensionAttribute", 0x42012a },
	{ "ExtensionParentStructureTag", 0x42012b },
	{ "ExtensionDescription", 0x42012c },
	{ "ServerName", 0x42012d },
	{ "ServerSerialNumber", 0x42012e },
	{ "ServerVersion", 0x42012f },
	{ "ServerLoad", 0x420130 },
	{ "ProductName", 0x420131 },
	{ "BuildLevel", 0x420132 },
	{ "BuildDate", 0x420133 },
	{ "ClusterInfo", 0x420134 },
	{ "AlternateFailoverEndpoints", 0x420135 },
	{ "ShortUniqueIdentifier", 0x420136 },
	{ "Tag", 0x420138 },
	{ "CertificateRequestUniqueIdentifier", 0x420139 },
	{ "NISTKeyType", 0x42013a },
	{ "AttributeReference", 0x42013b },
	{ "CurrentAttribute", 0x42013c },
	{ "NewAttribute", 0x42013d },
	{ "CertificateRequestValue", 0x420140 },
	{ "LogMessage", 0x420141 },
	{ "ProfileVersion", 0x420142 },
	{ "ProfileVersionMajor", 0x420143 },
	{ "ProfileVersionMinor", 0x420144 },
	{ "ProtectionLevel", 0x420145 },
	{ "ProtectionPeriod", 0x420146 },
	{ "QuantumSafe", 0x420147 },
	{ "QuantumSafeCapability", 0x420148 },
	{ "Ticket", 0x420149 },
	{ "TicketType", 0x42014a },
	{ "TicketValue", 0x42014b },
	{ "RequestCount", 0x42014c },
	{ "Rights", 0x42014d },
	{ "Objects", 0x42014e },
	{ "Operations", 0x42014f },
	{ "Right", 0x420150 },
	{ "EndpointRole", 0x420151 },
	{ "DefaultsInformation", 0x420152 },
	{ "ObjectDefaults", 0x420153 },
	{ "Ephemeral", 0x420154 },
	{ "ServerHashedPassword", 0x420155 },
	{ "OneTimePassword", 0x420156 },
	{ "HashedPassword", 0x420157 },
	{ "AdjustmentType", 0x420158 },
	{ "PKCS11Interface", 0x420159 },
	{ "PKCS11Function", 0x42015a },
	{ "PKCS11InputParameters", 0x42015b },
	{ "PKCS11OutputParameters", 0x42015c },
	{ "PKCS11ReturnCode", 0x42015d },
	{ "ProtectionStorageMask", 0x42015e },
	{ "ProtectionStorageMasks", 0x42015f },
	{ "InteropFunction", 0x420160 },
	{ "InteropIdentifier", 0x420161 },
	{ "AdjustmentValue", 0x420162 },
	{ "CommonProtectionStorageMasks", 0x420163 },
	{ "PrivateProtectionStorageMasks", 0x420164 },
	{ "PublicProtectionStorageMasks", 0x420165 },
};

/* Indices into tags, sorted by name (strcmp) when first used. */
static uint16_t		 tags_by_name[NELEM(tags)];
static int		 tags_by_name_made;

/* Sorted by tag and value. */
static const struct enum_name enums[] = {
	{ 0x42000e, 0x00000001, "Continue" },
	{ 0x42000e, 0x00000002, "Stop" },
	{ 0x42000e, 0x00000003, "Undo" },
	{ 0x420011, 0x00000001, "CBC" },
	{ 0x420011, 0x00000002, "ECB" },
	{ 0x420011, 0x00000003, "PCBC" },
	{ 0x420011, 0x00000004, "CFB" },
	{ 0x420011, 0x00000005, "OFB" },
	{ 0x420011, 0x00000006, "CTR" },
	{ 0x420011, 0x00000007, "CMAC" },
	{ 0x420011, 0x00000008, "CCM" },
	{ 0x420011, 0x00000009, "GCM" },
	{ 0x420011, 0x0000000a, "CBC_MAC" },
	{ 0x420011, 0x0000000b, "XTS" },
	{ 0x420011, 0x0000000c, "AESKeyWrapPadding" },
	{ 0x420011, 0x0000000d, "NISTKeyWrap" },
	{ 0x420011, 0x0000000e, "X9_102AESKW" },
	{ 0x420011, 0x0000000f, "X9_102TDKW" },
	{ 0x420011, 0x00000010, "X9_102AKW1" },
	{ 0x420011, 0x00000011, "X9_102AKW2" },
	{ 0x420011, 0x00000012, "AEAD" },
	{ 0x42001d, 0x00000001, "X_509" },
	{ 0x42001d, 0x00000002, "PGP" },
	{ 0x420028, 0x00000001, "DES" },
	{ 0x420028, 0x00000002, "DES3" },
	{ 0x420028, 0x00000003, "AES" },
	{ 0x420028, 0x00000004, "RSA" },
	{ 0x420028, 0x00000005, "DSA" },
	{ 0x420028, 0x00000006, "ECDSA" },
	{ 0x420028, 0x00000007, "HMAC_SHA1" },
	{ 0x420028, 0x00000008, "HMAC_SHA224" },
	{ 0x420028, 0x00000009, "HMAC_SHA256" },
	{ 0x420028, 0x0000000a, "HMAC_SHA384" },
	{ 0x420028, 0x0000000b, "HMAC_SHA512" },
	{ 0x420028, 0x0000000c, "HMAC_MD5" },
	{ 0x420028, 0x0000000d, "DH" },
	{ 0x420028, 0x0000000e, "ECDH" },
	{ 0x420028, 0x0000000f, "ECMQV" },
	{ 0x420028, 0x00000010, "Blowfish" },
	{ 0x420028, 0x00000011, "Camellia" },
	{ 0x420028, 0x00000012, "CAST5" },
	{ 0x420028, 0x00000013, "IDEA" },
	{ 0x420028, 0x00000014, "MARS" },
	{ 0x420028, 0x00000015, "RC2" },
	{ 0x420028, 0x00000016, "RC4" },
	{ 0x420028, 0x00000017, "RC5" },
	{ 0x420028, 0x00000018, "SKIPJACK" },
	{ 0x420028, 0x00000019, "Twofish" },
	{ 0x420028, 0x0000001a, "EC" },
	{ 0x420038, 0x00000001, "MD2" },
	{ 0x420038, 0x00000002, "MD4" },
	{ 0x420038, 0x00000003, "MD5" },
	{ 0x420038, 0x00000004, "SHA_1" },
	{ 0x420038, 0x00000005, "SHA_224" },
	{ 0x420038, 0x00000006, "SHA_256" },
	{ 0x420038, 0x00000007, "SHA_384" },
	{ 0x420038, 0x00000008, "SHA_512" },
	{ 0x420038, 0x00000009, "RIPEMD_160" },
	{ 0x420038, 0x0000000a, "Tiger" },
	{ 0x420038, 0x0000000b, "Whirlpool" },
	{ 0x420038, 0x0000000c, "SHA_512_224" },
	{ 0x420038, 0x0000000d, "SHA_512_256" },
	{ 0x420038, 0x0000000e, "SHA3_224" },
	{ 0x420038, 0x0000000f, "SHA3_256" },
	{ 0x420038, 0x00000010, "SHA3_384" },
	{ 0x420038, 0x00000011, "SHA3_512" },
	{ 0x420042, 0x00000001, "Raw" },
	{ 0x420042, 0x00000002, "Opaque" },
	{ 0x420042, 0x00000003, "PKCS_1" },
	{ 0x420042, 0x00000004, "PKCS_8" },
	{ 0x420042, 0x00000005, "X_509" },
	{ 0x420042, 0x00000006, "ECPrivateKey" },
	{ 0x420042, 0x00000007, "TransparentSymmetricKey" },
	{ 0x420042, 0x0000000a, "TransparentRSAPrivateKey" },
	{ 0x420042, 0x0000000b, "TransparentRSAPublicKey" },
	{ 0x420042, 0x00000014, "TransparentECPrivateKey" },
	{ 0x420042, 0x00000015, "TransparentECPublicKey" },
	{ 0x420042, 0x00000016, "PKCS_12" },
	{ 0x42004b, 0x00000101, "CertificateLink" },
	{ 0x42004b, 0x00000102, "PublicKeyLink" },
	{ 0x42004b, 0x00000103, "PrivateKeyLink" },
	{ 0x42004b, 0x00000104, "DerivationBaseObjectLink" },
	{ 0x42004b, 0x00000105, "DerivedKeyLink" },
	{ 0x42004b, 0x00000106, "ReplacementObjectLink" },
	{ 0x42004b, 0x00000107, "ReplacedObjectLink" },
	{ 0x42004b, 0x00000108, "ParentLink" },
	{ 0x42004b, 0x00000109, "ChildLink" },
	{ 0x42004b, 0x0000010a, "PreviousLink" },
	{ 0x42004b, 0x0000010b, "NextLink" },
	{ 0x42004b, 0x0000010c, "PKCS_12CertificateLink" },
	{ 0x42004b, 0x0000010d, "PKCS_12PasswordLink" },
	{ 0x420054, 0x00000001, "UninterpretedTextString" },
	{ 0x420054, 0x00000002, "URI" },
	{ 0x420057, 0x00000001, "Certificate" },
	{ 0x420057, 0x00000002, "SymmetricKey" },
	{ 0x420057, 0x00000003, "PublicKey" },
	{ 0x420057, 0x00000004, "PrivateKey" },
	{ 0x420057, 0x00000005, "SplitKey" },
	{ 0x420057, 0x00000006, "Template" },
	{ 0x420057, 0x00000007, "SecretData" },
	{ 0x420057, 0x00000008, "OpaqueObject" },
	{ 0x420057, 0x00000009, "PGPKey" },
	{ 0x42005c, 0x00000001, "Create" },
	{ 0x42005c, 0x00000002, "CreateKeyPair" },
	{ 0x42005c, 0x00000003, "Register" },
	{ 0x42005c, 0x00000004, "ReKey" },
	{ 0x42005c, 0x00000005, "DeriveKey" },
	{ 0x42005c, 0x00000006, "Certify" },
	{ 0x42005c, 0x00000007, "ReCertify" },
	{ 0x42005c, 0x00000008, "Locate" },
	{ 0x42005c, 0x00000009, "Check" },
	{ 0x42005c, 0x0000000a, "Get" },
	{ 0x42005c, 0x0000000b, "GetAttributes" },
	{ 0x42005c, 0x0000000c, "GetAttributeList" },
	{ 0x42005c, 0x0000000d, "AddAttribute" },
	{ 0x42005c, 0x0000000e, "ModifyAttribute" },
	{ 0x42005c, 0x0000000f, "DeleteAttribute" },
	{ 0x42005c, 0x00000010, "ObtainLease" },
	{ 0x42005c, 0x00000011, "GetUsageAllocation" },
	{ 0x42005c, 0x00000012, "Activate" },
	{ 0x42005c, 0x00000013, "Revoke" },
	{ 0x42005c, 0x00000014, "Destroy" },
	{ 0x42005c, 0x00000015, "Archive" },
	{ 0x42005c, 0x00000016, "Recover" },
	{ 0x42005c, 0x00000017, "Validate" },
	{ 0x42005c, 0x00000018, "Query" },
	{ 0x42005c, 0x00000019, "Cancel" },
	{ 0x42005c, 0x0000001a, "Poll" },
	{ 0x42005c, 0x0000001b, "Notify" },
	{ 0x42005c, 0x0000001c, "Put" },
	{ 0x42005c, 0x0000001d, "ReKeyKeyPair" },
	{ 0x42005c, 0x0000001e, "DiscoverVersions" },
	{ 0x42005c, 0x0000001f, "Encrypt" },
	{ 0x42005c, 0x00000020, "Decrypt" },
	{ 0x42005c, 0x00000021, "Sign" },
	{ 0x42005c, 0x00000022, "SignatureVerify" },
	{ 0x42005c, 0x00000023, "MAC" },
	{ 0x42005c, 0x00000024, "MACVerify" },
	{ 0x42005c, 0x00000025, "RNGRetrieve" },
	{ 0x42005c, 0x00000026, "RNGSeed" },
	{ 0x42005c, 0x00000027, "Hash" },
	{ 0x42005c, 0x00000028, "CreateSplitKey" },
	{ 0x42005c, 0x00000029, "JoinSplitKey" },
	{ 0x42005c, 0x0000002a, "Import" },
	{ 0x42005c, 0x0000002b, "Export" },
	{ 0x42005f, 0x00000001, "None" },
	{ 0x42005f, 0x00000002, "OAEP" },
	{ 0x42005f, 0x00000003, "PKCS5" },
	{ 0x42005f, 0x00000004, "SSL3" },
	{ 0x42005f, 0x00000005, "Zeros" },
	{ 0x42005f, 0x00000006, "ANSIX9_23" },
	{ 0x42005f, 0x00000007, "ISO10126" },
	{ 0x42005f, 0x00000008, "PKCS1_V1_5" },
	{ 0x42005f, 0x00000009, "X9_31" },
	{ 0x42005f, 0x0000000a, "PSS" },
	{ 0x420074, 0x00000001, "QueryOperations" },
	{ 0x420074, 0x00000002, "QueryObjects" },
	{ 0x420074, 0x00000003, "QueryServerInformation" },
	{ 0x420074, 0x00000004, "QueryApplicationNamespaces" },
	{ 0x420074, 0x00000005, "QueryExtensionList" },
	{ 0x420074, 0x00000006, "QueryExtensionMap" },
	{ 0x420074, 0x00000007, "QueryAttestationTypes" },
	{ 0x420074, 0x00000008, "QueryRNGs" },
	{ 0x420074, 0x00000009, "QueryValidations" },
	{ 0x420074, 0x0000000a, "QueryProfiles" },
	{ 0x420074, 0x0000000b, "QueryCapabilities" },
	{ 0x420074, 0x0000000c, "QueryClientRegistrationMethods" },
	{ 0x42007e, 0x00000001, "ItemNotFound" },
	{ 0x42007e, 0x00000002, "ResponseTooLarge" },
	{ 0x42007e, 0x00000003, "AuthenticationNotSuccessful" },
	{ 0x42007e, 0x00000004, "InvalidMessage" },
	{ 0x42007e, 0x00000005, "OperationNotSupported" },
	{ 0x42007e, 0x00000006, "MissingData" },
	{ 0x42007e, 0x00000007, "InvalidField" },
	{ 0x42007e, 0x00000008, "FeatureNotSupported" },
	{ 0x42007e, 0x00000009, "OperationCanceledByRequester" },
	{ 0x42007e, 0x0000000a, "CryptographicFailure" },
	{ 0x42007e, 0x0000000b, "IllegalOperation" },
	{ 0x42007e, 0x0000000c, "PermissionDenied" },
	{ 0x42007e, 0x0000000d, "ObjectArchived" },
	{ 0x42007e, 0x0000000e, "IndexOutOfBounds" },
	{ 0x42007e, 0x0000000f, "ApplicationNamespaceNotSupported" },
	{ 0x42007e, 0x00000010, "KeyFormatTypeNotSupported" },
	{ 0x42007e, 0x00000011, "KeyCompressionTypeNotSupported" },
	{ 0x42007e, 0x00000012, "EncodingOptionError" },
	{ 0x42007e, 0x00000013, "KeyValueNotPresent" },
	{ 0x42007e, 0x00000014, "AttestationRequired" },
	{ 0x42007e, 0x00000015, "AttestationFailed" },
	{ 0x42007e, 0x00000016, "Sensitive" },
	{ 0x42007e, 0x00000017, "NotExtractable" },
	{ 0x42007e, 0x00000018, "ObjectAlreadyExists" },
	{ 0x42007e, 0x00000100, "GeneralFailure" },
	{ 0x42007f, 0x00000000, "Success" },
	{ 0x42007f, 0x00000001, "OperationFailed" },
	{ 0x42007f, 0x00000002, "OperationPending" },
	{ 0x42007f, 0x00000003, "OperationUndone" },
	{ 0x420082, 0x00000001, "Unspecified" },
	{ 0x420082, 0x00000002, "KeyCompromise" },
	{ 0x420082, 0x00000003, "CACompromise" },
	{ 0x420082, 0x00000004, "AffiliationChanged" },
	{ 0x420082, 0x00000005, "Superseded" },
	{ 0x420082, 0x00000006, "CessationOfOperation" },
	{ 0x420082, 0x00000007, "PrivilegeWithdrawn" },
	{ 0x420086, 0x00000001, "Password" },
	{ 0x420086, 0x00000002, "Seed" },
	{ 0x42008d, 0x00000001, "PreActive" },
	{ 0x42008d, 0x00000002, "Active" },
	{ 0x42008d, 0x00000003, "Deactivated" },
	{ 0x42008d, 0x00000004, "Compromised" },
	{ 0x42008d, 0x00000005, "Destroyed" },
	{ 0x42008d, 0x00000006, "DestroyedCompromised" },
	{ 0x420098, 0x00000001, "Byte" },
	{ 0x420098, 0x00000002, "Object" },
	{ 0x42009b, 0x00000001, "Valid" },
	{ 0x42009b, 0x00000002, "Invalid" },
	{ 0x42009b, 0x00000003, "Unknown" },
	{ 0x42009e, 0x00000001, "Encrypt" },
	{ 0x42009e, 0x00000002, "MACSign" },
	{ 0x42009e, 0x00000003, "EncryptThenMACSign" },
	{ 0x42009e, 0x00000004, "MACSignThenEncrypt" },
	{ 0x42009e, 0x00000005, "TR_31" },
	{ 0x4200a3, 0x00000001, "NoEncoding" },
	{ 0x4200a3, 0x00000002, "TTLVEncoding" },
	{ 0x4200c1, 0x00000001, "UninterpretedTextString" },
	{ 0x4200c1, 0x00000002, "URI" },
	{ 0x4200c1, 0x00000003, "ObjectSerialNumber" },
	{ 0x4200c1, 0x00000004, "EmailAddress" },
	{ 0x4200c1, 0x00000005, "DNSName" },
	{ 0x4200c1, 0x00000006, "X_500DistinguishedName" },
	{ 0x4200c1, 0x00000007, "IPAddress" },
	{ 0x4200da, 0x00000001, "Unspecified" },
	{ 0x4200da, 0x00000002, "FIPS186_2" },
	{ 0x4200da, 0x00000003, "DRBG" },
	{ 0x4200da, 0x00000004, "NRBG" },
	{ 0x4200da, 0x00000005, "ANSIX9_31" },
	{ 0x4200da, 0x00000006, "ANSIX9_62" },
	{ 0x420101, 0x00000001, "MGF1" },
};

/* Tags whose values are those of another enumeration. */
static const struct family tag_aliases[] = {
	{ 0x420102, 0x420038 },	/* Mask Generator Hashing Algorithm */
};

/* The enumeration of an Attribute Value, by its Attribute Name. */
static const struct alias attr_enums[] = {
	{ "Certificate Type", 0x42001d },	/* CertificateType */
	{ "Cryptographic Algorithm", 0x420028 },	/* CryptographicAlgorithm */
	{ "Object Type", 0x420057 },	/* ObjectType */
	{ "Random Number Generator", 0x4200da },	/* RNGAlgorithm */
	{ "State", 0x42008d },	/* State */
};

/* Cryptographic Usage Mask bits. */
static const struct bit usage_bits[] = {
	{ "Sign", 0x00000001 },
	{ "Verify", 0x00000002 },
	{ "Encrypt", 0x00000004 },
	{ "Decrypt", 0x00000008 },
	{ "WrapKey", 0x00000010 },
	{ "UnwrapKey", 0x00000020 },
	{ "Export", 0x00000040 },
	{ "MACGenerate", 0x00000080 },
	{ "MACVerify", 0x00000100 },
	{ "DeriveKey", 0x00000200 },
	{ "ContentCommitment", 0x00000400 },
	{ "KeyAgreement", 0x00000800 },
	{ "CertificateSign", 0x00001000 },
	{ "CRLSign", 0x00002000 },
	{ "GenerateCryptogram", 0x00004000 },
	{ "ValidateCryptogram", 0x00008000 },
	{ "TranslateEncrypt", 0x00010000 },
	{ "TranslateDecrypt", 0x00020000 },
	{ "TranslateWrap", 0x00040000 },
	{ "TranslateUnwrap", 0x00080000 },
};

/* Compare a counted name with a NUL-terminated one, as strcmp. */
static int
name_cmp(const struct key *k, const char *name)
{
	const unsigned char	*a = (const unsigned char *)k->p;
	const unsigned char	*b = (const unsigned char *)name;
	size_t			 i;

	/* Not strncmp: the counted name may hold a NUL. */
	for (i = 0; i < k->len; i++) {
		if (b[i] == '\0')
			return (1);
		if (a[i] != b[i])
			return (a[i] < b[i] ? -1 : 1);
	}
	return (b[k->len] == '\0' ? 0 : -1);
}

static int
name_order(const void *a, const void *b)
{
	return (strcmp(tags[*(const uint16_t *)a].name,
	    tags[*(const uint16_t *)b].name));
}

static int
tag_by_name(const void *k, const void *e)
{
	return (name_cmp(k, tags[*(const uint16_t *)e].name));
}

static int
tag_by_value(const void *k, const void *e)
{
	uint32_t	 a = *(const uint32_t *)k;
	uint32_t	 b = ((const struct tag_name *)e)->tag;

	return (a < b ? -1 : a > b);
}

/* The tag of name[0..len), 0 if it has none. */
uint32_t
kmipname_tag(const char *name, size_t len)
{
	const uint16_t	*t;
	struct key	 k = { name, len };
	size_t		 i;

	if (!tags_by_name_made) {
		for (i = 0; i < NELEM(tags_by_name); i++)
			tags_by_name[i] = i;
		qsort(tags_by_name, NELEM(tags_by_name),
		    sizeof(tags_by_name[0]), name_order);
		tags_by_name_made = 1;
	}
	t = bsearch(&k, tags_by_name, NELEM(tags_by_name),
	    sizeof(tags_by_name[0]), tag_by_name);
	return (t != NULL ? tags[*t].tag : 0);
}

const char *
kmipname_tagname(uint32_t tag)
{
	const struct tag_name	*t;

	t = bsearch(&tag, tags, NELEM(tags), sizeof(tags[0]), tag_by_value);
	return (t != NULL ? t->name : NULL);
}

/*
 * Which enumeration the values of tag are: an Attribute Value's is its
 * Attribute Name's (attr, NULL if none came before it).
 */
static uint32_t
enum_family(uint32_t tag, const char *attr)
{
	size_t	 i;

	if (tag == KMIPNAME_ATTRIBUTE_VALUE) {
		if (attr == NULL)
			return (0);
		for (i = 0; i < NELEM(attr_enums); i++)
			if (strcmp(attr_enums[i].name, attr) == 0)
				return (attr_enums[i].tag);
		return (0);
	}
	for (i = 0; i < NELEM(tag_aliases); i++)
		if (tag_aliases[i].tag == tag)
			return (tag_aliases[i].family);
	return (tag);
}

int
kmipname_enum(uint32_t tag, const char *attr, const char *name, size_t len,
    uint32_t *v)
{
	struct key	 k = { name, len };
	uint32_t	 fam;
	size_t		 i;

	if ((fam = enum_family(tag, attr)) == 0)
		return (-1);
	for (i = 0; i < NELEM(enums); i++)
		if (enums[i].tag == fam && name_cmp(&k, enums[i].name) == 0) {
			*v = enums[i].value;
			return (0);
		}
	return (-1);
}

const char *
kmipname_enumname(uint32_t tag, const char *attr, uint32_t v)
{
	uint32_t	 fam;
	size_t		 i;

	if ((fam = enum_family(tag, attr)) == 0)
		return (NULL);
	for (i = 0; i < NELEM(enums); i++)
		if (enums[i].tag == fam && enums[i].value == v)
			return (enums[i].name);
	return (NULL);
}

int
kmipname_usage(const char *name, size_t len, uint32_t *bit)
{
	struct key	 k = { name, len };
	size_t		 i;

	for (i = 0; i < NELEM(usage_bits); i++)
		if (name_cmp(&k, usage_bits[i].name) == 0) {
			*bit = usage_bits[i].bit;
			return (0);
		}
	return (-1);
}
