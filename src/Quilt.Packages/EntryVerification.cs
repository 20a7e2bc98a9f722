using System.Globalization;
using Quilt.Core.Hashing;
using Quilt.Core.Manifests;

namespace Quilt.Packages;

/// <summary>
/// An entry's data is not what its manifest records: another size, or bytes with another hash. The revision's data was
/// changed after it was made (or the manifest was crafted), so nothing read from it may be trusted.
/// </summary>
public sealed class EntryMismatchException : PackageException
{
    public EntryMismatchException(ManifestEntry entry, long actualSize, ObjectHash? actualHash, string? actualSizeNote = null)
        : base(BuildMessage(entry, actualSize, actualHash, actualSizeNote))
    {
        LogicalKey = entry.LogicalKey;
        ExpectedSize = entry.Size;
        ExpectedHash = entry.Hash;
        ActualSize = actualSize;
        ActualHash = actualHash;
    }

    public string LogicalKey { get; }
    public long ExpectedSize { get; }
    public ObjectHash ExpectedHash { get; }

    /// <summary>The bytes found (a lower bound when the data was longer than recorded and reading stopped there).</summary>
    public long ActualSize { get; }

    /// <summary>The hash of the bytes found, of the recorded hash's type; null when they were not all read.</summary>
    public ObjectHash? ActualHash { get; }

    private static string BuildMessage(ManifestEntry entry, long actualSize, ObjectHash? actualHash, string? actualSizeNote)
    {
        var found = actualHash is null
            ? $"{actualSizeNote ?? actualSize.ToString("N0", CultureInfo.InvariantCulture)} bytes (not hashed: the size alone differs)"
            : $"{actualSize.ToString("N0", CultureInfo.InvariantCulture)} bytes with {actualHash.Type} {actualHash.Value}";
        return $"'{entry.LogicalKey}' does not match its package entry: the manifest records "
            + $"{entry.Size.ToString("N0", CultureInfo.InvariantCulture)} bytes with {entry.Hash.Type} {entry.Hash.Value}, "
            + $"but its data at {entry.PhysicalKey} has {found}. The data changed after the revision was made; nothing of it was used. "
            + "Do not trust this revision: ask its author to push it again.";
    }
}

/// <summary>Checks data read for a package entry against the size and hash its manifest records.</summary>
public static class EntryVerification
{
    /// <summary>Throws <see cref="EntryMismatchException"/> unless <paramref name="actualSize"/> and <paramref name="actualHash"/> are the entry's.</summary>
    public static void Ensure(ManifestEntry entry, long actualSize, ObjectHash actualHash)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(actualHash);
        if (actualSize != entry.Size || !actualHash.Matches(entry.Hash))
            throw new EntryMismatchException(entry, actualSize, actualHash);
    }

    /// <summary>Checks the whole of an entry's data, already in memory.</summary>
    public static void EnsureBytes(ManifestEntry entry, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(entry);
        Ensure(entry, data.Length, Hash(entry, data));
    }

    /// <summary>Throws when the stored object's size (from its metadata) already differs from the entry's.</summary>
    public static void EnsureSize(ManifestEntry entry, long actualSize)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (actualSize != entry.Size)
            throw new EntryMismatchException(entry, actualSize, null);
    }

    /// <summary>A hasher of the entry's hash type for <paramref name="size"/> bytes; a type this library does not know cannot be verified.</summary>
    public static ObjectHasher NewHasher(ManifestEntry entry, long size)
    {
        ArgumentNullException.ThrowIfNull(entry);
        try
        {
            return new ObjectHasher(entry.Hash.Type, size);
        }
        catch (UnsupportedHashTypeException ex)
        {
            throw new PackageException($"'{entry.LogicalKey}' cannot be verified: {ex.Message}", ex);
        }
    }

    private static ObjectHash Hash(ManifestEntry entry, ReadOnlySpan<byte> data)
    {
        using var hasher = NewHasher(entry, data.Length);
        hasher.Append(data);
        return hasher.Finish();
    }
}
