namespace Quilt.Core.Hashing;

/// <summary>An entry's hash as a manifest records it: <c>{"type": "sha2-256-chunked", "value": "…"}</c>.</summary>
public sealed record ObjectHash(string Type, string Value)
{
    public const string Sha256Chunked = "sha2-256-chunked";
    public const string Sha256 = "SHA256";
    public const string Crc64Nvme = "CRC64NVME";
}
