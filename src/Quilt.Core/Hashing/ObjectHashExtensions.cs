namespace Quilt.Core.Hashing;

/// <summary>
/// What readers need besides the record itself: which types are known, and comparing two hashes.
/// Extension members keep <see cref="ObjectHash"/> a plain data record.
/// </summary>
public static class ObjectHashExtensions
{
    private static readonly System.Collections.ObjectModel.ReadOnlyCollection<string> Known =
        new([ObjectHash.Sha256ChunkedType, ObjectHash.Sha256Type, ObjectHash.Crc64NvmeType]);

    extension(ObjectHash hash)
    {
        /// <summary>The types this library computes and verifies.</summary>
        public static IReadOnlyList<string> KnownTypes => Known;

        /// <summary>Whether <paramref name="type"/> is one of the known types (exact and case-sensitive, as quilt3 compares).</summary>
        public static bool IsKnownType(string? type) =>
            type is ObjectHash.Sha256ChunkedType or ObjectHash.Sha256Type or ObjectHash.Crc64NvmeType;

        /// <summary>
        /// Whether <paramref name="other"/> is the same hash: same type and value. Hex (SHA256) values compare
        /// without regard to case, since only the digits carry meaning; base64 values compare exactly.
        /// </summary>
        public bool Matches(ObjectHash other)
        {
            ArgumentNullException.ThrowIfNull(other);
            if (!string.Equals(hash.Type, other.Type, StringComparison.Ordinal))
                return false;
            var comparison = hash.Type == ObjectHash.Sha256Type ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            return string.Equals(hash.Value, other.Value, comparison);
        }
    }
}
