using Quilt.Core;
using Quilt.Core.Manifests;
using Quilt.Storage;

namespace Quilt.Operations;

/// <summary>
/// Turns what a client typed (<c>s3://bucket/key?versionId=v</c>, <c>quilt+s3://bucket#path=key</c>, or a package entry URI)
/// into an <see cref="ObjectRef"/>, checking names and the server's bucket policy on the way.
/// </summary>
public sealed class ObjectUriResolver(BucketAccessPolicy policy, IPackageEntryResolver packages)
{
    /// <summary>The s3:// URI of an object, percent-encoded as quilt3 writes physical keys.</summary>
    public static string FormatUri(ObjectRef obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return PhysicalKey.S3(obj.Bucket, obj.Key, obj.VersionId).ToString();
    }

    public static string FormatUri(string bucket, string key) => PhysicalKey.S3(bucket, key).ToString();

    /// <summary>An object to read: any URI form, including package entries.</summary>
    public async Task<ObjectRef> ForReadAsync(string? uri, string argument, CancellationToken cancellationToken) =>
        (await ForReadWithEntryAsync(uri, argument, cancellationToken)).Object;

    /// <summary>
    /// An object to read, and when the URI names a package entry, that entry: a read of its whole data must match the
    /// entry's recorded size and hash.
    /// </summary>
    public async Task<(ObjectRef Object, ManifestEntry? Entry)> ForReadWithEntryAsync(string? uri, string argument, CancellationToken cancellationToken)
    {
        var text = Require(uri, argument);
        ObjectRef obj;
        ManifestEntry? entry = null;
        if (QuiltUri.IsQuiltUri(text))
        {
            var quilt = ParseQuilt(text, argument);
            if (quilt.PackageName is not null)
            {
                policy.EnsureCanRead(quilt.Bucket, argument);
                (obj, entry) = await packages.ResolveAsync(quilt, cancellationToken);
            }
            else
            {
                obj = FromQuiltPath(quilt, text, argument);
            }
        }
        else
        {
            obj = ParseS3(text, argument);
        }
        Check(obj, text, argument);
        policy.EnsureCanRead(obj.Bucket, argument);
        return (obj, entry);
    }

    /// <summary>An object to write: s3:// or quilt+s3:// without a package (package entries are immutable).</summary>
    public ObjectRef ForWrite(string? uri, string argument, bool allowVersion = false)
    {
        var text = Require(uri, argument);
        ObjectRef obj;
        if (QuiltUri.IsQuiltUri(text))
        {
            var quilt = ParseQuilt(text, argument);
            if (quilt.PackageName is not null)
            {
                throw new OperationException(
                    $"{argument} '{text}' names an entry of package {quilt.PackageName}; package revisions cannot be changed in place. "
                    + $"Write to an s3://{quilt.Bucket}/key URI instead.");
            }
            obj = FromQuiltPath(quilt, text, argument);
        }
        else
        {
            obj = ParseS3(text, argument);
        }
        Check(obj, text, argument);
        if (obj.VersionId is not null && !allowVersion)
        {
            throw new OperationException(
                $"{argument} '{text}' names a version (?versionId=); a write always makes a new current version. Remove ?versionId= from the URI.");
        }
        policy.EnsureCanWrite(obj.Bucket, argument);
        return obj;
    }

    /// <summary>A bucket and optional prefix, given as a bare bucket name or an s3://bucket/prefix URI.</summary>
    public (string Bucket, string Prefix) ForListing(string? bucketOrUri, string argument)
    {
        var text = Require(bucketOrUri, argument);
        string bucket, prefix;
        if (text.StartsWith("s3://", StringComparison.Ordinal))
        {
            var key = ParsePhysical(text, argument);
            if (key.VersionId is not null)
                throw new OperationException($"{argument} '{text}' has a ?versionId=, which a listing cannot use. Give s3://bucket/prefix.");
            (bucket, prefix) = (key.Bucket!, key.Path);
        }
        else if (QuiltUri.IsQuiltUri(text))
        {
            var quilt = ParseQuilt(text, argument);
            if (quilt.PackageName is not null)
                throw new OperationException($"{argument} '{text}' names a package; this tool lists bucket objects. Give s3://{quilt.Bucket}/prefix.");
            (bucket, prefix) = (quilt.Bucket, quilt.Path ?? "");
        }
        else if (text.Contains('/', StringComparison.Ordinal) || text.Contains(':', StringComparison.Ordinal))
        {
            throw new OperationException($"{argument} '{text}' is neither a bucket name nor an s3://bucket/prefix URI. Did you mean s3://{text.TrimStart('/')}?");
        }
        else
        {
            (bucket, prefix) = (text, "");
        }
        if (ObjectNames.BucketError(bucket) is { } bucketError)
            throw new OperationException($"{argument}: {bucketError}.");
        if (ObjectNames.PrefixError(prefix) is { } prefixError)
            throw new OperationException($"{argument}: {prefixError}.");
        policy.EnsureCanRead(bucket, argument);
        return (bucket, prefix);
    }

    /// <summary>The trimmed value of a required argument, or a tool error naming it.</summary>
    public static string Require(string? value, string argument) =>
        string.IsNullOrWhiteSpace(value)
            ? throw new OperationException($"The argument '{argument}' is required and was not given (or is empty).")
            : value.Trim();

    private static ObjectRef ParseS3(string text, string argument)
    {
        if (!text.StartsWith("s3://", StringComparison.Ordinal))
        {
            var hint = text.Contains("://", StringComparison.Ordinal) || text.StartsWith('/')
                ? "Give an s3://bucket/key URI (or quilt+s3://bucket#path=key)."
                : $"Give an s3://bucket/key URI, such as s3://{text.TrimStart('/')}.";
            throw new OperationException($"{argument} '{text}' is not an object URI. {hint}");
        }
        var key = ParsePhysical(text, argument);
        return new ObjectRef(key.Bucket!, key.Path, key.VersionId);
    }

    private static PhysicalKey ParsePhysical(string text, string argument)
    {
        try
        {
            return PhysicalKey.Parse(text);
        }
        catch (FormatException e)
        {
            throw new OperationException($"{argument}: {e.Message} Use s3://bucket/key or s3://bucket/key?versionId=ID.");
        }
    }

    private static QuiltUri ParseQuilt(string text, string argument)
    {
        try
        {
            return QuiltUri.Parse(text);
        }
        catch (FormatException e)
        {
            throw new OperationException($"{argument}: {e.Message}");
        }
    }

    private static ObjectRef FromQuiltPath(QuiltUri quilt, string text, string argument) =>
        quilt.Path is null
            ? throw new OperationException($"{argument} '{text}' names no object: add &path=key (quilt+s3://{quilt.Bucket}#path=key) or use s3://{quilt.Bucket}/key.")
            : new ObjectRef(quilt.Bucket, quilt.Path);

    private static void Check(ObjectRef obj, string text, string argument)
    {
        if (ObjectNames.BucketError(obj.Bucket) is { } bucketError)
            throw new OperationException($"{argument} '{text}': {bucketError}.");
        if (ObjectNames.KeyError(obj.Key) is { } keyError)
            throw new OperationException($"{argument} '{text}': {keyError}.");
    }
}
