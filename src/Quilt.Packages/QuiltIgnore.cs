using System.Text;
using System.Text.RegularExpressions;

namespace Quilt.Packages;

/// <summary>
/// The rules of a folder's <c>.quiltignore</c>, read and matched as quilt3's set_dir does, so a folder gives the same
/// entries (and top hash) here as there. Not gitignore: each non-empty line is a Python fnmatch pattern prefixed with
/// "*/" and matched against the ABSOLUTE path, where '*' crosses '/'; there are no comments or negations.
/// </summary>
public sealed class QuiltIgnore
{
    public const string FileName = ".quiltignore";

    private readonly Regex[] _rules;

    private QuiltIgnore(IReadOnlyList<string> rules)
    {
        Rules = rules;
        _rules = [.. rules.Select(r => PythonFnmatch.Compile("*/" + r))];
    }

    /// <summary>The rules as written (without the "*/" quilt3 puts before each).</summary>
    public IReadOnlyList<string> Rules { get; }

    /// <summary>
    /// The rules of <c>.quiltignore</c> in <paramref name="folder"/> (only there: quilt3 reads no nested ones), or null
    /// when it has none.
    /// </summary>
    public static QuiltIgnore? Load(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
            return null;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PackageException($"Could not read '{path}': {e.Message} Make it readable, or remove it to package every file.", e);
        }
        string text;
        try
        {
            // Strict UTF-8 and no BOM stripping, as Python's read_text('utf-8') (a BOM stays part of the first rule).
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new PackageException($"'{path}' is not valid UTF-8 (quilt3 cannot read it either); save it as UTF-8 text, one pattern a line.", e);
        }
        return Parse(text);
    }

    /// <summary>
    /// Rules from the text of a <c>.quiltignore</c>. Python reads it in text mode (universal newlines: "\r\n" and a lone
    /// "\r" end a line like "\n"), then splits on "\n" and drops empty lines; nothing else is trimmed.
    /// </summary>
    public static QuiltIgnore Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n');
        return new QuiltIgnore([.. lines.Where(l => l.Length > 0)]);
    }

    /// <summary>Whether a file (or a link to one) at this absolute '/'-separated path is left out.</summary>
    public bool IgnoresFile(string absolutePath) => _rules.Any(r => r.IsMatch(absolutePath));

    /// <summary>
    /// Whether a folder at this absolute path is left out with all below it. quilt3 tries the path with and without a
    /// trailing '/', so "logs" and "logs/" both leave out a folder named logs (and "logs/" no file). Anything quilt3 does
    /// not take for a file (a link to a folder, a dangling link) is matched this way too.
    /// </summary>
    public bool IgnoresDirectory(string absolutePath) => _rules.Any(r => r.IsMatch(absolutePath + "/") || r.IsMatch(absolutePath));
}
