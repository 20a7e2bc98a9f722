using System.ComponentModel;

namespace Quilt.Operations.Models;

/// <summary>One object for bucket_objects_put: where it goes and exactly one source of bytes.</summary>
public sealed record PutObjectInput
{
    [Description("Required. Where to write: s3://bucket/key (or quilt+s3://bucket#path=key).")]
    public required string Uri { get; init; }

    [Description("The content as text (written as UTF-8). Give exactly one of text, base64 or localPath.")]
    public string? Text { get; init; }

    [Description("The content as base64 (for small binary data). Give exactly one of text, base64 or localPath.")]
    public string? Base64 { get; init; }

    [Description("Absolute path of a local file to upload, streamed (any size; multipart when large). Give exactly one of text, base64 or localPath.")]
    public string? LocalPath { get; init; }

    [Description("Content type (MIME) such as text/csv; guessed from the key's extension when omitted.")]
    public string? ContentType { get; init; }

    [Description("User metadata to store with the object (x-amz-meta-*): keys of ASCII letters, digits, '-' and '_' (stored in lower case), values of one line of text.")]
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}
