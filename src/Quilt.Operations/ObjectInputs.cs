using Quilt.Core.Manifests;
using Quilt.Storage;

namespace Quilt.Operations;

/// <summary>
/// An object to read, resolved once by <see cref="ObjectUriResolver"/> under the bucket policy (made only by
/// <see cref="ObjectOperations.ReadableAsync"/>), and when its URI names a package entry, that entry: a read of the
/// whole data is checked against the entry's recorded size and hash.
/// </summary>
public sealed record ObjectSource
{
    internal ObjectSource(ObjectRef obj, ManifestEntry? entry) => (Object, Entry) = (obj, entry);

    public ObjectRef Object { get; }

    public ManifestEntry? Entry { get; }
}

/// <summary>How to read an object as text: as a client gave it, checked by <see cref="ObjectOperations.ReadTextAsync"/>.</summary>
/// <param name="Format">'auto' (a preview for data files read from the start), 'text' or 'preview'.</param>
/// <param name="Offset">The byte offset a 'text' read starts at.</param>
/// <param name="MaxBytes">Most bytes to read; null: 64 KiB or the server's limit, whichever is less.</param>
/// <param name="Encoding">The text encoding's name (see <see cref="Previews.TextDecoding"/>).</param>
/// <param name="Rows">Rows in a table preview, 0 to 1000.</param>
public sealed record TextReadRequest(string? Format = "auto", long Offset = 0, int? MaxBytes = null, string? Encoding = "utf-8", int Rows = 20);

/// <summary>An object's bytes read whole into memory (within the inline limit), and what was read.</summary>
public sealed record InlineObject(Models.ObjectFetchResult Result, byte[] Bytes);
