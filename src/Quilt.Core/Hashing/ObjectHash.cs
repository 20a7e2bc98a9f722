namespace Quilt.Core.Hashing;

/// <summary>An entry's hash as a manifest records it: <c>{"type": "sha2-256-chunked", "value": "…"}</c>.</summary>
public sealed record ObjectHash(string Type, string Value)
{
    public const string Sha256ChunkedType = "sha2-256-chunked";
    public const string Sha256Type = "SHA256";
    public const string Crc64NvmeType = "CRC64NVME";
}
