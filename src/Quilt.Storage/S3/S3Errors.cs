using System.Net;
using Amazon.Runtime;
using Amazon.S3;

namespace Quilt.Storage.S3;

/// <summary>Turns the AWS SDK's exceptions into the storage exceptions, with messages that say what to check.</summary>
internal static class S3Errors
{
    /// <summary>
    /// The storage exception for <paramref name="ex"/>, or null when it is not an S3/SDK failure (then rethrow as is).
    /// <paramref name="obj"/> is the object the call was about, null for bucket-level calls.
    /// </summary>
    public static StorageException? Map(Exception ex, string operation, string bucket, ObjectRef? obj, string? endpoint)
    {
        var target = obj?.ToString() ?? $"bucket '{bucket}'";
        switch (ex)
        {
            case AmazonS3Exception s3:
                return MapService(s3, s3.ErrorCode, s3.StatusCode, operation, bucket, obj, target);
            case AmazonServiceException service:
                return MapService(service, service.ErrorCode, service.StatusCode, operation, bucket, obj, target);
            case HttpRequestException { HttpRequestError: not (HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError) } http:
                return new StorageException($"The S3 request to {operation} {target}{Where(endpoint)} failed: {http.Message}", http);
            case HttpRequestException http:
                return new StorageException(
                    $"Could not reach S3{Where(endpoint)} to {operation} {target}: {http.Message}. " +
                    "Check the endpoint URL and that the server is running and reachable.", http);
            case AmazonClientException client:
                return new StorageException(
                    $"Could not {operation} {target}{Where(endpoint)}: {client.Message} " +
                    "Check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials), the region and the endpoint.",
                    client);
            default:
                return null;
        }
    }

    private static StorageException MapService(
        AmazonServiceException ex, string? code, HttpStatusCode status, string operation, string bucket, ObjectRef? obj, string target)
    {
        if (code == "NoSuchBucket")
            return new BucketNotFoundException(bucket);
        if (code is "NoSuchKey" or "NoSuchVersion" || (status == HttpStatusCode.NotFound && obj is not null && code != "NoSuchUpload"))
            return new ObjectNotFoundException(obj ?? new ObjectRef(bucket, ""));
        if (status == HttpStatusCode.NotFound && obj is null && code is null or "NotFound")
            return new BucketNotFoundException(bucket);
        if (status == HttpStatusCode.Forbidden)
            return new AccessDeniedException(AccessDeniedMessage(code, operation, target), ex);
        var detail = string.IsNullOrWhiteSpace(ex.Message) || ex.Message.StartsWith("Error making request", StringComparison.Ordinal)
            ? ""
            : $" {ex.Message.TrimEnd('.')}.";
        return new StorageException(
            $"S3 refused to {operation} {target}: {code ?? "no error code"} (HTTP {(int)status}).{detail}", ex);
    }

    private static string AccessDeniedMessage(string? code, string operation, string target) => code switch
    {
        "InvalidAccessKeyId" =>
            $"Access denied to {target} ({operation}): S3 does not know this access key (InvalidAccessKeyId). " +
            "Check which credentials are in use (AWS_PROFILE, AWS_ACCESS_KEY_ID, ~/.aws/credentials) and that they belong to this endpoint.",
        "SignatureDoesNotMatch" =>
            $"Access denied to {target} ({operation}): the request signature does not match (SignatureDoesNotMatch). " +
            "Check the secret access key, the region, and the machine's clock.",
        "ExpiredToken" or "TokenRefreshRequired" =>
            $"Access denied to {target} ({operation}): the session credentials have expired ({code}). Refresh them (e.g. aws sso login) and retry.",
        "RequestTimeTooSkewed" =>
            $"Access denied to {target} ({operation}): this machine's clock differs too much from S3's (RequestTimeTooSkewed). Fix the clock.",
        _ =>
            $"Access denied to {target} ({operation}, S3 error {code ?? "403"}). " +
            "Check the credentials in use (AWS_PROFILE, AWS_ACCESS_KEY_ID, not expired) and that the IAM and bucket policies allow this action on it.",
    };

    private static string Where(string? endpoint) => endpoint is null ? "" : $" at {endpoint}";
}
