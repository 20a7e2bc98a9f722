using System.ComponentModel;

namespace Quilt.Operations.Models;

/// <summary>One object for bucket_objects_put: where it goes and exactly one source of bytes.</summary>
public sealed record PutObjectInput
{
    [Description("s3://bucket/key (or quilt+s3://bucket#path=key).")]
    public required string Uri { get; init; }

    [Description("Content as UTF-8 text. One of text, base64, localPath.")]
    public string? Text { get; init; }

    [Description("Content as base64 (small binary).")]
    public string? Base64 { get; init; }

    [Description("Absolute local file, streamed (any size).")]
    public string? LocalPath { get; init; }

    [Description("MIME type; default: guessed from the key.")]
    public string? ContentType { get; init; }

    [Description("x-amz-meta-* user metadata: keys of letters, digits, '-', '_'; one-line values.")]
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}
