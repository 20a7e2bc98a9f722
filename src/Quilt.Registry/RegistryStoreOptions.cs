using Quilt.Storage.S3;

namespace Quilt.Registry;

/// <summary>How <see cref="RegistryApiObjectStore"/> splits uploads and how long its browsing sessions live.</summary>
public sealed record RegistryStoreOptions
{
    /// <summary>Objects of this size or larger go up as a multipart upload; smaller ones as one presigned POST.</summary>
    public long MultipartThreshold { get; init; } = 8L * 1024 * 1024;

    /// <summary>Preferred part size (raised for objects that would need more than 10,000 parts); each part in flight is held in memory.</summary>
    public long PartSize { get; init; } = 8L * 1024 * 1024;

    /// <summary>Parts uploaded at once.</summary>
    public int Concurrency { get; init; } = 4;

    /// <summary>Lifetime asked for browsing sessions; a session is refreshed when less than <see cref="SessionRefreshMargin"/> is left.</summary>
    public TimeSpan SessionLifetime { get; init; } = TimeSpan.FromMinutes(30);

    public TimeSpan SessionRefreshMargin { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>The longest download link the registry hands out (quilt-gateway's browsing.maxLinkTtlSeconds, 900 s by default).</summary>
    public TimeSpan MaxLinkLifetime { get; init; } = TimeSpan.FromSeconds(900);

    internal void Validate()
    {
        if (MultipartThreshold is < 1 or > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(MultipartThreshold), MultipartThreshold, $"The multipart threshold must be from 1 to {int.MaxValue} bytes.");
        if (PartSize < S3StoreOptions.MinPartSize || PartSize > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(PartSize), PartSize, $"The part size must be from {S3StoreOptions.MinPartSize} bytes (5 MiB) to {int.MaxValue} bytes.");
        if (Concurrency < 1)
            throw new ArgumentOutOfRangeException(nameof(Concurrency), Concurrency, "Concurrency must be at least 1.");
        if (SessionLifetime <= SessionRefreshMargin)
            throw new ArgumentOutOfRangeException(nameof(SessionLifetime), SessionLifetime, "The session lifetime must be longer than the refresh margin.");
    }
}
