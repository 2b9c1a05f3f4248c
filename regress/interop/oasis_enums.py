# KMIP 1.4 enumerations (specification section 9.1.3.2) as the XML
# encoding of the Profiles test vectors spells their names, and which
# enumeration a tag (or an attribute, by its name) takes.  A data table
# of the replayer, oasis.py; only what the vectors and their variations
# need, written out from the specification.

ENUMS = {
    "ObjectType": {
        "Certificate": 1, "SymmetricKey": 2, "PublicKey": 3,
        "PrivateKey": 4, "SplitKey": 5, "Template": 6, "SecretData": 7,
        "OpaqueObject": 8, "PGPKey": 9,
    },
    "CryptographicAlgorithm": {
        "DES": 1, "DES3": 2, "AES": 3, "RSA": 4, "DSA": 5, "ECDSA": 6,
        "HMAC_SHA1": 7, "HMAC_SHA224": 8, "HMAC_SHA256": 9,
        "HMAC_SHA384": 10, "HMAC_SHA512": 11, "HMAC_MD5": 12, "DH": 13,
        "ECDH": 14, "ECMQV": 15, "Blowfish": 16, "Camellia": 17,
        "CAST5": 18, "IDEA": 19, "MARS": 20, "RC2": 21, "RC4": 22,
        "RC5": 23, "SKIPJACK": 24, "Twofish": 25, "EC": 26,
    },
    "State": {
        "PreActive": 1, "Active": 2, "Deactivated": 3, "Compromised": 4,
        "Destroyed": 5, "DestroyedCompromised": 6,
    },
    "HashingAlgorithm": {
        "MD2": 1, "MD4": 2, "MD5": 3, "SHA_1": 4, "SHA_224": 5,
        "SHA_256": 6, "SHA_384": 7, "SHA_512": 8, "RIPEMD_160": 9,
        "Tiger": 10, "Whirlpool": 11, "SHA_512_224": 12, "SHA_512_256": 13,
        "SHA3_224": 14, "SHA3_256": 15, "SHA3_384": 16, "SHA3_512": 17,
    },
    "KeyFormatType": {
        "Raw": 1, "Opaque": 2, "PKCS_1": 3, "PKCS_8": 4, "X_509": 5,
        "ECPrivateKey": 6, "TransparentSymmetricKey": 7,
        "TransparentRSAPrivateKey": 10, "TransparentRSAPublicKey": 11,
        "TransparentECPrivateKey": 20, "TransparentECPublicKey": 21,
        "PKCS_12": 22,
    },
    "BlockCipherMode": {
        "CBC": 1, "ECB": 2, "PCBC": 3, "CFB": 4, "OFB": 5, "CTR": 6,
        "CMAC": 7, "CCM": 8, "GCM": 9, "CBC_MAC": 10, "XTS": 11,
        "AESKeyWrapPadding": 12, "NISTKeyWrap": 13, "X9_102AESKW": 14,
        "X9_102TDKW": 15, "X9_102AKW1": 16, "X9_102AKW2": 17, "AEAD": 18,
    },
    "PaddingMethod": {
        "None": 1, "OAEP": 2, "PKCS5": 3, "SSL3": 4, "Zeros": 5,
        "ANSIX9_23": 6, "ISO10126": 7, "PKCS1_V1_5": 8, "X9_31": 9,
        "PSS": 10,
    },
    "MaskGenerator": {"MGF1": 1},
    "LinkType": {
        "CertificateLink": 0x101, "PublicKeyLink": 0x102,
        "PrivateKeyLink": 0x103, "DerivationBaseObjectLink": 0x104,
        "DerivedKeyLink": 0x105, "ReplacementObjectLink": 0x106,
        "ReplacedObjectLink": 0x107, "ParentLink": 0x108,
        "ChildLink": 0x109, "PreviousLink": 0x10a, "NextLink": 0x10b,
        "PKCS_12CertificateLink": 0x10c, "PKCS_12PasswordLink": 0x10d,
    },
    "NameType": {"UninterpretedTextString": 1, "URI": 2},
    "AlternativeNameType": {
        "UninterpretedTextString": 1, "URI": 2,
        "ObjectSerialNumber": 3, "EmailAddress": 4, "DNSName": 5,
        "X_500DistinguishedName": 6, "IPAddress": 7,
    },
    "Operation": {
        "Create": 1, "CreateKeyPair": 2, "Register": 3, "ReKey": 4,
        "DeriveKey": 5, "Certify": 6, "ReCertify": 7, "Locate": 8,
        "Check": 9, "Get": 10, "GetAttributes": 11,
        "GetAttributeList": 12, "AddAttribute": 13,
        "ModifyAttribute": 14, "DeleteAttribute": 15, "ObtainLease": 16,
        "GetUsageAllocation": 17, "Activate": 18, "Revoke": 19,
        "Destroy": 20, "Archive": 21, "Recover": 22, "Validate": 23,
        "Query": 24, "Cancel": 25, "Poll": 26, "Notify": 27, "Put": 28,
        "ReKeyKeyPair": 29, "DiscoverVersions": 30, "Encrypt": 31,
        "Decrypt": 32, "Sign": 33, "SignatureVerify": 34, "MAC": 35,
        "MACVerify": 36, "RNGRetrieve": 37, "RNGSeed": 38, "Hash": 39,
        "CreateSplitKey": 40, "JoinSplitKey": 41, "Import": 42,
        "Export": 43,
    },
    "QueryFunction": {
        "QueryOperations": 1, "QueryObjects": 2,
        "QueryServerInformation": 3, "QueryApplicationNamespaces": 4,
        "QueryExtensionList": 5, "QueryExtensionMap": 6,
        "QueryAttestationTypes": 7, "QueryRNGs": 8,
        "QueryValidations": 9, "QueryProfiles": 10,
        "QueryCapabilities": 11, "QueryClientRegistrationMethods": 12,
    },
    "ResultStatus": {
        "Success": 0, "OperationFailed": 1, "OperationPending": 2,
        "OperationUndone": 3,
    },
    "ResultReason": {
        "ItemNotFound": 1, "ResponseTooLarge": 2,
        "AuthenticationNotSuccessful": 3, "InvalidMessage": 4,
        "OperationNotSupported": 5, "MissingData": 6, "InvalidField": 7,
        "FeatureNotSupported": 8, "OperationCanceledByRequester": 9,
        "CryptographicFailure": 10, "IllegalOperation": 11,
        "PermissionDenied": 12, "ObjectArchived": 13,
        "IndexOutOfBounds": 14, "ApplicationNamespaceNotSupported": 15,
        "KeyFormatTypeNotSupported": 16,
        "KeyCompressionTypeNotSupported": 17, "EncodingOptionError": 18,
        "KeyValueNotPresent": 19, "AttestationRequired": 20,
        "AttestationFailed": 21, "Sensitive": 22, "NotExtractable": 23,
        "ObjectAlreadyExists": 24, "GeneralFailure": 0x100,
    },
    "RevocationReasonCode": {
        "Unspecified": 1, "KeyCompromise": 2, "CACompromise": 3,
        "AffiliationChanged": 4, "Superseded": 5,
        "CessationOfOperation": 6, "PrivilegeWithdrawn": 7,
    },
    "SecretDataType": {"Password": 1, "Seed": 2},
    "ValidityIndicator": {"Valid": 1, "Invalid": 2, "Unknown": 3},
    "WrappingMethod": {
        "Encrypt": 1, "MACSign": 2, "EncryptThenMACSign": 3,
        "MACSignThenEncrypt": 4, "TR_31": 5,
    },
    "EncodingOption": {"NoEncoding": 1, "TTLVEncoding": 2},
    "BatchErrorContinuationOption": {"Continue": 1, "Stop": 2, "Undo": 3},
    "UsageLimitsUnit": {"Byte": 1, "Object": 2},
    "RNGAlgorithm": {
        "Unspecified": 1, "FIPS186_2": 2, "DRBG": 3, "NRBG": 4,
        "ANSIX9_31": 5, "ANSIX9_62": 6,
    },
    "CertificateType": {"X_509": 1, "PGP": 2},
}

# Tags of the same enumeration as another.
ENUMS["MaskGeneratorHashingAlgorithm"] = ENUMS["HashingAlgorithm"]
ENUMS["WrappingKeyFormatType"] = ENUMS["KeyFormatType"]

# The enumeration of an Attribute Value, by Attribute Name.
ATTR_ENUM = {
    "Object Type": "ObjectType",
    "Cryptographic Algorithm": "CryptographicAlgorithm",
    "State": "State",
    "Certificate Type": "CertificateType",
    "Random Number Generator": "RNGAlgorithm",
}

# Cryptographic Usage Mask bits, for Integer values given by name.
USAGE = {
    "Sign": 0x1, "Verify": 0x2, "Encrypt": 0x4, "Decrypt": 0x8,
    "WrapKey": 0x10, "UnwrapKey": 0x20, "Export": 0x40,
    "MACGenerate": 0x80, "MACVerify": 0x100, "DeriveKey": 0x200,
    "ContentCommitment": 0x400, "KeyAgreement": 0x800,
    "CertificateSign": 0x1000, "CRLSign": 0x2000,
    "GenerateCryptogram": 0x4000, "ValidateCryptogram": 0x8000,
    "TranslateEncrypt": 0x10000, "TranslateDecrypt": 0x20000,
    "TranslateWrap": 0x40000, "TranslateUnwrap": 0x80000,
}
