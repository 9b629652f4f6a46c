package apierr

import "net/http"

// row: how one Code looks in each protocol. An empty name means the protocol
// never produces this code; rendering it there is a bug and becomes a 500.
type row struct {
	code        Code
	oci         string
	ociStatus   int
	json        string // AWS JSON 1.1 exception name (__type)
	jsonStatus  int
	query       string // AWS Query error code (short form)
	queryStatus int
}

// Codes. Registry (/v2/) failures first, then authentication, then the AWS services.
const (
	BlobUnknown         Code = "BlobUnknown"
	BlobUploadInvalid   Code = "BlobUploadInvalid"
	BlobUploadUnknown   Code = "BlobUploadUnknown"
	DigestInvalid       Code = "DigestInvalid"
	ManifestBlobUnknown Code = "ManifestBlobUnknown"
	ManifestInvalid     Code = "ManifestInvalid"
	ManifestUnknown     Code = "ManifestUnknown"
	NameInvalid         Code = "NameInvalid"
	NameUnknown         Code = "NameUnknown" // repository does not exist (ECR: RepositoryNotFoundException)
	SizeInvalid         Code = "SizeInvalid"
	RangeInvalid        Code = "RangeInvalid"
	TagInvalid          Code = "TagInvalid"
	TagImmutable        Code = "TagImmutable" // ECR: ImageTagAlreadyExistsException
	Unsupported         Code = "Unsupported"
	TooManyRequests     Code = "TooManyRequests"
	PayloadTooLarge     Code = "PayloadTooLarge"
	MethodNotAllowed    Code = "MethodNotAllowed"
	PaginationInvalid   Code = "PaginationInvalid"

	// Authentication and authorization.
	Unauthenticated        Code = "Unauthenticated"        // no or malformed credentials on /v2/
	InvalidCredentials     Code = "InvalidCredentials"     // unknown access key / bad password / bad token
	SignatureMismatch      Code = "SignatureMismatch"      // SigV4 signature or clock skew
	IncompleteSignature    Code = "IncompleteSignature"    // malformed Authorization header
	MissingAuthentication  Code = "MissingAuthentication"  // AWS API call with no Authorization
	ExpiredToken           Code = "ExpiredToken"           // STS session / ECR token expired
	AccessDenied           Code = "AccessDenied"           // authenticated, policy says no
	InvalidAction          Code = "InvalidAction"          // unknown X-Amz-Target / Action
	SerializationException Code = "SerializationException" // unparsable JSON body

	// ECR.
	InvalidParameter             Code = "InvalidParameter"
	RepositoryAlreadyExists      Code = "RepositoryAlreadyExists"
	RepositoryNotEmpty           Code = "RepositoryNotEmpty"
	RepositoryPolicyNotFound     Code = "RepositoryPolicyNotFound"
	RegistryPolicyNotFound       Code = "RegistryPolicyNotFound"
	LifecyclePolicyNotFound      Code = "LifecyclePolicyNotFound"
	LifecyclePreviewNotFound     Code = "LifecyclePreviewNotFound"
	ImageNotFound                Code = "ImageNotFound"
	ImageAlreadyExists           Code = "ImageAlreadyExists"
	ImageDigestDoesNotMatch      Code = "ImageDigestDoesNotMatch"
	LayersNotFound               Code = "LayersNotFound"
	ReferencedImagesNotFound     Code = "ReferencedImagesNotFound"
	LayerAlreadyExists           Code = "LayerAlreadyExists"
	InvalidLayer                 Code = "InvalidLayer"
	InvalidLayerPart             Code = "InvalidLayerPart"
	LayerPartTooSmall            Code = "LayerPartTooSmall"
	EmptyUpload                  Code = "EmptyUpload"
	UploadNotFound               Code = "UploadNotFound"
	LimitExceeded                Code = "LimitExceeded"
	InvalidTagParameter          Code = "InvalidTagParameter"
	TooManyTags                  Code = "TooManyTags"
	PullThroughRuleAlreadyExists Code = "PullThroughRuleAlreadyExists"
	PullThroughRuleNotFound      Code = "PullThroughRuleNotFound"
	UnsupportedUpstreamRegistry  Code = "UnsupportedUpstreamRegistry"
	SecretNotFound               Code = "SecretNotFound"
	ValidationException          Code = "ValidationException" // JSON-1.1 generic validation (SSM, ECR model-level)
	TemplateAlreadyExists        Code = "TemplateAlreadyExists"
	TemplateNotFound             Code = "TemplateNotFound"
	ScanNotFound                 Code = "ScanNotFound"
	ImageArchived                Code = "ImageArchived"
	SigningConfigNotFound        Code = "SigningConfigNotFound"
	ExclusionAlreadyExists       Code = "ExclusionAlreadyExists"
	ExclusionNotFound            Code = "ExclusionNotFound"
	StorageClassNotSupported     Code = "StorageClassNotSupported" // ECR: ImageStorageClassUpdateNotSupportedException

	// IAM / STS (Query).
	NoSuchEntity            Code = "NoSuchEntity"
	EntityAlreadyExists     Code = "EntityAlreadyExists"
	DeleteConflict          Code = "DeleteConflict"
	IAMLimitExceeded        Code = "IAMLimitExceeded"
	MalformedPolicyDocument Code = "MalformedPolicyDocument"
	InvalidInput            Code = "InvalidInput"
	PolicyNotAttachable     Code = "PolicyNotAttachable"
	ValidationError         Code = "ValidationError"      // Query-protocol parameter problems
	PackedPolicyTooLarge    Code = "PackedPolicyTooLarge" // STS session policy over its packed size

	// SSM.
	ParameterNotFound                  Code = "ParameterNotFound"
	ParameterAlreadyExists             Code = "ParameterAlreadyExists"
	ParameterVersionNotFound           Code = "ParameterVersionNotFound"
	ParameterMaxVersionLimitExceeded   Code = "ParameterMaxVersionLimitExceeded"
	UnsupportedParameterType           Code = "UnsupportedParameterType"
	HierarchyTypeMismatch              Code = "HierarchyTypeMismatch"
	InvalidNextToken                   Code = "InvalidNextToken"
	InvalidKeyID                       Code = "InvalidKeyID"
	HierarchyLevelLimitExceeded        Code = "HierarchyLevelLimitExceeded"
	InvalidFilterKey                   Code = "InvalidFilterKey"
	InvalidFilterOption                Code = "InvalidFilterOption"
	InvalidFilterValue                 Code = "InvalidFilterValue"
	ParameterPatternMismatch           Code = "ParameterPatternMismatch"
	InvalidAllowedPattern              Code = "InvalidAllowedPattern"
	ParameterVersionLabelLimitExceeded Code = "ParameterVersionLabelLimitExceeded"

	// Secrets Manager.
	ResourceNotFound        Code = "ResourceNotFound"
	ResourceExists          Code = "ResourceExists"
	InvalidRequest          Code = "InvalidRequest"
	SecretsInvalidParameter Code = "SecretsInvalidParameter"
	DecryptionFailure       Code = "DecryptionFailure"

	// StorageFull: the registry's disk (or database) is out of space. It is
	// the server's condition, not the caller's mistake, so it is a 5xx that
	// clients may retry later; /v2/ uses 507 Insufficient Storage as other
	// registries do, while the AWS protocols have no such status and report
	// their own server fault.
	StorageFull Code = "StorageFull"
	// StorageUnavailable: the blob backend (S3) cannot be reached or
	// failed; a 503 that clients retry.
	StorageUnavailable Code = "StorageUnavailable"
	// UpstreamUnavailable: a pull-through cache upstream failed (down,
	// timed out, rate limited, refused the rule's credentials) and there is
	// no cached copy to serve; 502 with the upstream's reason.
	UpstreamUnavailable Code = "UpstreamUnavailable"

	Internal Code = "Internal"
)

const (
	s400 = http.StatusBadRequest
	s401 = http.StatusUnauthorized
	s403 = http.StatusForbidden
	s404 = http.StatusNotFound
	s405 = http.StatusMethodNotAllowed
	s409 = http.StatusConflict
	s413 = http.StatusRequestEntityTooLarge
	s416 = http.StatusRequestedRangeNotSatisfiable
	s429 = http.StatusTooManyRequests
	s500 = http.StatusInternalServerError
	s507 = http.StatusInsufficientStorage
)

// table is read-only after package initialisation.
var table = []row{
	{BlobUnknown, "BLOB_UNKNOWN", s404, "LayersNotFoundException", s400, "", 0},
	{BlobUploadInvalid, "BLOB_UPLOAD_INVALID", s400, "InvalidLayerPartException", s400, "", 0},
	{BlobUploadUnknown, "BLOB_UPLOAD_UNKNOWN", s404, "UploadNotFoundException", s400, "", 0},
	{DigestInvalid, "DIGEST_INVALID", s400, "InvalidLayerException", s400, "", 0},
	{ManifestBlobUnknown, "MANIFEST_BLOB_UNKNOWN", s400, "LayersNotFoundException", s400, "", 0},
	{ManifestInvalid, "MANIFEST_INVALID", s400, "InvalidParameterException", s400, "", 0},
	{ManifestUnknown, "MANIFEST_UNKNOWN", s404, "ImageNotFoundException", s400, "", 0},
	{NameInvalid, "NAME_INVALID", s400, "InvalidParameterException", s400, "", 0},
	{NameUnknown, "NAME_UNKNOWN", s404, "RepositoryNotFoundException", s400, "", 0},
	{SizeInvalid, "SIZE_INVALID", s400, "InvalidLayerException", s400, "", 0},
	{RangeInvalid, "BLOB_UPLOAD_INVALID", s416, "InvalidLayerPartException", s400, "", 0},
	{TagInvalid, "TAG_INVALID", s400, "InvalidParameterException", s400, "", 0},
	{TagImmutable, "TAG_INVALID", s400, "ImageTagAlreadyExistsException", s400, "", 0},
	{Unsupported, "UNSUPPORTED", s405, "UnsupportedImageTypeException", s400, "", 0},
	{TooManyRequests, "TOOMANYREQUESTS", s429, "ThrottlingException", s400, "Throttling", s400},
	{PayloadTooLarge, "SIZE_INVALID", s413, "InvalidParameterException", s400, "ValidationError", s400},
	{MethodNotAllowed, "UNSUPPORTED", s405, "", 0, "", 0},
	{PaginationInvalid, "PAGINATION_NUMBER_INVALID", s400, "InvalidParameterException", s400, "", 0},

	{Unauthenticated, "UNAUTHORIZED", s401, "MissingAuthenticationTokenException", s400, "MissingAuthenticationToken", s403},
	{InvalidCredentials, "UNAUTHORIZED", s401, "UnrecognizedClientException", s400, "InvalidClientTokenId", s403},
	{SignatureMismatch, "UNAUTHORIZED", s401, "InvalidSignatureException", s400, "SignatureDoesNotMatch", s403},
	{IncompleteSignature, "UNAUTHORIZED", s401, "IncompleteSignatureException", s400, "IncompleteSignature", s400},
	{MissingAuthentication, "UNAUTHORIZED", s401, "MissingAuthenticationTokenException", s400, "MissingAuthenticationToken", s403},
	{ExpiredToken, "DENIED", s403, "ExpiredTokenException", s400, "ExpiredToken", s403},
	{AccessDenied, "DENIED", s403, "AccessDeniedException", s400, "AccessDenied", s403},
	{InvalidAction, "UNSUPPORTED", s400, "UnknownOperationException", s400, "InvalidAction", s400},
	{SerializationException, "", 0, "SerializationException", s400, "MalformedQueryString", s400},

	{InvalidParameter, "", 0, "InvalidParameterException", s400, "InvalidParameterValue", s400},
	{RepositoryAlreadyExists, "", 0, "RepositoryAlreadyExistsException", s400, "", 0},
	{RepositoryNotEmpty, "", 0, "RepositoryNotEmptyException", s400, "", 0},
	{RepositoryPolicyNotFound, "", 0, "RepositoryPolicyNotFoundException", s400, "", 0},
	{RegistryPolicyNotFound, "", 0, "RegistryPolicyNotFoundException", s400, "", 0},
	{LifecyclePolicyNotFound, "", 0, "LifecyclePolicyNotFoundException", s400, "", 0},
	{LifecyclePreviewNotFound, "", 0, "LifecyclePolicyPreviewNotFoundException", s400, "", 0},
	{ImageNotFound, "MANIFEST_UNKNOWN", s404, "ImageNotFoundException", s400, "", 0},
	{ImageAlreadyExists, "", 0, "ImageAlreadyExistsException", s400, "", 0},
	{ImageDigestDoesNotMatch, "DIGEST_INVALID", s400, "ImageDigestDoesNotMatchException", s400, "", 0},
	{LayersNotFound, "MANIFEST_BLOB_UNKNOWN", s400, "LayersNotFoundException", s400, "", 0},
	{ReferencedImagesNotFound, "MANIFEST_BLOB_UNKNOWN", s400, "ReferencedImagesNotFoundException", s400, "", 0},
	{LayerAlreadyExists, "", 0, "LayerAlreadyExistsException", s400, "", 0},
	{InvalidLayer, "DIGEST_INVALID", s400, "InvalidLayerException", s400, "", 0},
	{InvalidLayerPart, "BLOB_UPLOAD_INVALID", s416, "InvalidLayerPartException", s400, "", 0},
	{LayerPartTooSmall, "", 0, "LayerPartTooSmallException", s400, "", 0},
	{EmptyUpload, "BLOB_UPLOAD_INVALID", s400, "EmptyUploadException", s400, "", 0},
	{UploadNotFound, "BLOB_UPLOAD_UNKNOWN", s404, "UploadNotFoundException", s400, "", 0},
	{LimitExceeded, "DENIED", s403, "LimitExceededException", s400, "LimitExceeded", s409},
	{InvalidTagParameter, "", 0, "InvalidTagParameterException", s400, "", 0},
	{TooManyTags, "", 0, "TooManyTagsException", s400, "", 0},
	{PullThroughRuleAlreadyExists, "", 0, "PullThroughCacheRuleAlreadyExistsException", s400, "", 0},
	{PullThroughRuleNotFound, "", 0, "PullThroughCacheRuleNotFoundException", s400, "", 0},
	{UnsupportedUpstreamRegistry, "", 0, "UnsupportedUpstreamRegistryException", s400, "", 0},
	{SecretNotFound, "", 0, "SecretNotFoundException", s400, "", 0},
	{ValidationException, "", 0, "ValidationException", s400, "ValidationError", s400},
	{TemplateAlreadyExists, "", 0, "TemplateAlreadyExistsException", s400, "", 0},
	{TemplateNotFound, "", 0, "TemplateNotFoundException", s400, "", 0},
	{ScanNotFound, "", 0, "ScanNotFoundException", s400, "", 0},
	{ImageArchived, "", 0, "ImageArchivedException", s400, "", 0},
	{SigningConfigNotFound, "", 0, "SigningConfigurationNotFoundException", s400, "", 0},
	{ExclusionAlreadyExists, "", 0, "ExclusionAlreadyExistsException", s400, "", 0},
	{ExclusionNotFound, "", 0, "ExclusionNotFoundException", s400, "", 0},
	{StorageClassNotSupported, "", 0, "ImageStorageClassUpdateNotSupportedException", s400, "", 0},

	{NoSuchEntity, "", 0, "", 0, "NoSuchEntity", s404},
	{EntityAlreadyExists, "", 0, "", 0, "EntityAlreadyExists", s409},
	{DeleteConflict, "", 0, "", 0, "DeleteConflict", s409},
	{IAMLimitExceeded, "", 0, "", 0, "LimitExceeded", s409},
	{MalformedPolicyDocument, "", 0, "", 0, "MalformedPolicyDocument", s400},
	{InvalidInput, "", 0, "", 0, "InvalidInput", s400},
	{PolicyNotAttachable, "", 0, "", 0, "PolicyNotAttachable", s400},
	{ValidationError, "", 0, "ValidationException", s400, "ValidationError", s400},
	{PackedPolicyTooLarge, "", 0, "", 0, "PackedPolicyTooLarge", s400},

	{ParameterNotFound, "", 0, "ParameterNotFound", s400, "", 0},
	{ParameterAlreadyExists, "", 0, "ParameterAlreadyExists", s400, "", 0},
	{ParameterVersionNotFound, "", 0, "ParameterVersionNotFound", s400, "", 0},
	{ParameterMaxVersionLimitExceeded, "", 0, "ParameterMaxVersionLimitExceeded", s400, "", 0},
	{UnsupportedParameterType, "", 0, "UnsupportedParameterType", s400, "", 0},
	{HierarchyTypeMismatch, "", 0, "HierarchyTypeMismatchException", s400, "", 0},
	{InvalidNextToken, "", 0, "InvalidNextToken", s400, "", 0},
	{InvalidKeyID, "", 0, "InvalidKeyId", s400, "", 0},
	{HierarchyLevelLimitExceeded, "", 0, "HierarchyLevelLimitExceededException", s400, "", 0},
	{InvalidFilterKey, "", 0, "InvalidFilterKey", s400, "", 0},
	{InvalidFilterOption, "", 0, "InvalidFilterOption", s400, "", 0},
	{InvalidFilterValue, "", 0, "InvalidFilterValue", s400, "", 0},
	{ParameterPatternMismatch, "", 0, "ParameterPatternMismatchException", s400, "", 0},
	{InvalidAllowedPattern, "", 0, "InvalidAllowedPatternException", s400, "", 0},
	{ParameterVersionLabelLimitExceeded, "", 0, "ParameterVersionLabelLimitExceeded", s400, "", 0},

	{ResourceNotFound, "", 0, "ResourceNotFoundException", s400, "", 0},
	{ResourceExists, "", 0, "ResourceExistsException", s400, "", 0},
	{InvalidRequest, "", 0, "InvalidRequestException", s400, "", 0},
	{SecretsInvalidParameter, "", 0, "InvalidParameterException", s400, "", 0},
	{DecryptionFailure, "", 0, "DecryptionFailure", s400, "", 0},

	{StorageFull, "UNKNOWN", s507, "ServerException", s500, "ServiceFailure", s500},
	{StorageUnavailable, "UNAVAILABLE", http.StatusServiceUnavailable, "ServerException", s500, "ServiceUnavailable", http.StatusServiceUnavailable},
	{UpstreamUnavailable, "UNAVAILABLE", http.StatusBadGateway, "ServerException", s500, "ServiceUnavailable", http.StatusBadGateway},
	{Internal, "UNKNOWN", s500, "ServerException", s500, "ServiceFailure", s500},
}
