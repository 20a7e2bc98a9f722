using System.Text;
using Quilt.Core;

namespace Quilt.Storage.Local;

/// <summary>
/// The rules that keep bucket names and keys inside the store's root, and a package entry's logical key inside the folder
/// it is downloaded to. Pure string checks: the symlink checks need the file system and live with their callers.
/// </summary>
public static class LocalPaths
{
    /// <summary>
    /// Whether '\' separates folders here (Windows). Elsewhere it is a character of a file name, as in S3 keys and
    /// quilt3's logical keys (<c>back\slash.txt</c>).
    /// </summary>
    public static readonly bool BackslashIsSeparator = Path.DirectorySeparatorChar == '\\' || Path.AltDirectorySeparatorChar == '\\';

    /// <summary>S3's limit on a key, in UTF-8 bytes.</summary>
    public const int MaxKeyBytes = 1024;

    /// <summary>Most file systems (ext4, APFS, NTFS) cap one file name at 255 bytes.</summary>
    public const int MaxSegmentBytes = 255;

    public static bool IsValidBucketName(string? name) => ObjectNames.BucketError(name) is null;

    /// <summary>S3's rules (<see cref="ObjectNames.BucketError"/>): a name that passes is also one folder name, never a path.</summary>
    public static void ValidateBucket(string bucket)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        if (ObjectNames.BucketError(bucket) is { } problem)
            throw new InvalidObjectPathException($"Bucket name refused by the local folder store: {problem}.");
    }

    /// <summary>Checks a key and returns its segments. <paramref name="forWrite"/> also refuses a trailing '/'.</summary>
    public static string[] ValidateKey(string bucket, string key, bool forWrite)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (KeyProblem(key, forWrite) is { } problem)
        {
            throw new InvalidObjectPathException(
                $"Key '{Display(key)}' in bucket '{bucket}' is not allowed in the local folder store: {problem}.");
        }
        return key.Split('/');
    }

    /// <summary>Why a key cannot name a file under its bucket folder, or null when it can.</summary>
    public static string? KeyProblem(string key, bool forWrite)
    {
        if (key.Length == 0)
            return "it is empty";
        if (key[0] == '/')
            return "it starts with '/' (an absolute path); keys are relative to their bucket";
        if (forWrite && key[^1] == '/')
            return "it ends with '/' (a folder marker); the local folder store keeps only files, so give the object a file name";
        if (CharProblem(key) is { } charProblem)
            return charProblem;
        if (Encoding.UTF8.GetByteCount(key) > MaxKeyBytes)
            return $"it is longer than {MaxKeyBytes} UTF-8 bytes (the S3 limit)";

        // A trailing '/' (allowed when reading) leaves one empty last segment; every other segment must be a name.
        var segments = key.Split('/');
        var last = key[^1] == '/' ? segments.Length - 1 : segments.Length;
        for (var i = 0; i < last; i++)
        {
            if (SegmentProblem(segments[i]) is { } segmentProblem)
                return segmentProblem;
        }
        return null;
    }

    /// <summary>Why one path segment (a name between slashes) is not allowed, or null.</summary>
    public static string? SegmentProblem(string segment)
    {
        if (segment.Length == 0)
            return "it has an empty segment ('//'); each part between slashes must be a name";
        if (segment is "." or "..")
            return $"it has a '{segment}' segment; keys may not refer to the current or parent folder";
        if (CharProblem(segment) is { } charProblem)
            return charProblem;
        if (Encoding.UTF8.GetByteCount(segment) > MaxSegmentBytes)
            return $"the part '{Display(segment)}' is longer than {MaxSegmentBytes} UTF-8 bytes, the longest file name a file system takes";
        if (Path.IsPathRooted(segment))
            return $"the part '{Display(segment)}' is an absolute path on this system";
        return null;
    }

    private static string? CharProblem(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\\' && BackslashIsSeparator)
                return "it contains a backslash, which separates folders on this system; use '/' to separate folders";
            if (c == '\0')
                return "it contains a NUL character";
            if (char.IsControl(c))
                return $"it contains the control character U+{(int)c:X4}";
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                continue;
            }
            if (char.IsSurrogate(c))
                return "it is not valid Unicode (a lone surrogate)";
        }
        return null;
    }

    /// <summary>A key fit to quote in a message: control characters shown as escapes.</summary>
    public static string Display(string text) => Names.Escaped(text);
}
