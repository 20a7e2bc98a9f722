using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.S3;

namespace Quilt.Storage.S3;

/// <summary>
/// The one way an <see cref="AmazonS3Client"/> is set up, for the stores and the gateway alike: which endpoint and
/// region, path-style addressing, checksums S3-compatible servers (Ceph, MinIO) understand, and the credentials given.
/// </summary>
public static class S3Clients
{
    /// <summary>The endpoint to use: <paramref name="configured"/>, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL; null means AWS.</summary>
    public static string? Endpoint(string? configured) =>
        FirstSet(configured, Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3"), Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL"));

    /// <summary>
    /// A client for <paramref name="endpointUrl"/> (see <see cref="Endpoint"/>) in <paramref name="region"/> (null: the
    /// SDK's choice), with <paramref name="credentials"/> (null: the SDK's chain, resolved by the client itself).
    /// </summary>
    public static AmazonS3Client Create(string? endpointUrl, string? region, bool forcePathStyle, AWSCredentials? credentials)
    {
        var config = new AmazonS3Config
        {
            // The SDK's default checksums (aws-chunked trailers) are not understood by every S3-compatible server;
            // integrity comes from the package hashes, computed while streaming.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (Endpoint(endpointUrl) is { } endpoint)
        {
            config.ServiceURL = endpoint;
            // Signing needs a region even where the server ignores it.
            config.AuthenticationRegion = region ?? FirstSet(Environment.GetEnvironmentVariable("AWS_REGION"), Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION")) ?? "us-east-1";
            // Virtual-host addressing needs DNS for bucket.host, which S3-compatible servers rarely have.
            config.ForcePathStyle = true;
        }
        else
        {
            if (region is not null)
                config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
            config.ForcePathStyle = forcePathStyle;
        }
        return credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }

    /// <summary>The credentials and region of a named AWS profile; a <see cref="StorageException"/> says what to check when it has none.</summary>
    public static (AWSCredentials Credentials, string? Region) FromProfile(string profileName)
    {
        ArgumentException.ThrowIfNullOrEmpty(profileName);
        var chain = new CredentialProfileStoreChain();
        if (!chain.TryGetProfile(profileName, out var profile))
            throw new StorageException(
                $"AWS profile '{profileName}' was not found in ~/.aws/config or ~/.aws/credentials. Check its name (aws configure list-profiles).");
        if (!AWSCredentialsFactory.TryGetAWSCredentials(profile, chain, out var credentials))
            throw new StorageException(
                $"AWS profile '{profileName}' has no usable credentials. Check it with 'aws configure list --profile {profileName}' (or log in again for SSO profiles).");
        return (credentials, profile.Region?.SystemName);
    }

    /// <summary>The first value that is set (not null, empty or blank).</summary>
    public static string? FirstSet(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
