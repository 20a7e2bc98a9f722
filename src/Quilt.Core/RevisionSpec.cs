namespace Quilt.Core;

/// <summary>
/// How one string names a revision (a URI's <c>@hash</c> or <c>:tag</c>, a --revision option, a tool's revision argument):
/// <c>@</c> + a top hash or unique prefix; <c>:</c> + a tag, the name of a pointer file under
/// <c>.quilt/named_packages/user/name/</c> (<c>latest</c>, or a revision's unix timestamp, as the catalog reads <c>:tag</c>);
/// or bare: <c>latest</c>, a hash or hex prefix, else a tag.
/// </summary>
public static class RevisionSpec
{
    public const string HashPrefix = "@";
    public const string TagPrefix = ":";

    /// <summary>
    /// A tag that names one pointer file of the package: not empty, no '/' or '\', not '.' or '..', no control characters
    /// (so no tag reaches a key outside the package's pointers).
    /// </summary>
    public static bool IsValidTag(string? tag) =>
        tag is { Length: > 0 and <= 255 } and not "." and not ".."
        && tag.AsSpan().IndexOfAny('/', '\\') < 0 && !tag.Any(char.IsControl);
}
