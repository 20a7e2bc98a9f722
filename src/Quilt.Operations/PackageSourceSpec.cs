using System.Text.Json.Nodes;
using Quilt.Operations.Models;

namespace Quilt.Operations;

/// <summary>
/// One item of what goes in a package, as every front end gives it: an s3:// object or prefix, a quilt+s3:// entry, an
/// absolute local file or folder (<see cref="Uri"/>), or inline bytes (<see cref="Content"/>); where it lands
/// (<see cref="LogicalKey"/>: an entry's key, or for a prefix, folder or a key ending in '/' the folder it lands in); and
/// an entry's metadata. <see cref="Where"/> names the item in refusals.
/// </summary>
public sealed record PackageSourceSpec(string Where)
{
    public string? Uri { get; init; }

    /// <summary>How refusals name <see cref="Uri"/> (the tools' <c>sources[0].uri</c>).</summary>
    public string UriArgument => UriName ?? Where + ".uri";

    /// <summary>Another name for <see cref="Uri"/> in refusals than <c>Where.uri</c> (the CLI's "source").</summary>
    public string? UriName { get; init; }

    public ReadOnlyMemory<byte>? Content { get; init; }

    public string? LogicalKey { get; init; }

    public JsonNode? Metadata { get; init; }

    /// <summary>JSON null was given as the metadata: <c>"user_meta": null</c>, as quilt3's set_meta(None).</summary>
    public bool NullMetadata { get; init; }

    /// <summary>The MCP tools' item: exactly one of uri, text or base64; metadata a JSON object or null.</summary>
    public static PackageSourceSpec From(PackageSourceInput? input, string where)
    {
        if (input is null)
            throw new OperationException($"{where} is empty: give uri, text or base64.");
        var given = (input.Uri is not null ? 1 : 0) + (input.Text is not null ? 1 : 0) + (input.Base64 is not null ? 1 : 0);
        if (given != 1)
            throw new OperationException($"{where}: give exactly one of uri, text or base64.");
        var metadata = PackageSourceResolver.Metadata(input.Metadata, where + ".metadata");
        ReadOnlyMemory<byte>? content = null;
        if (input.Text is not null)
        {
            content = System.Text.Encoding.UTF8.GetBytes(input.Text);
        }
        else if (input.Base64 is not null)
        {
            try
            {
                content = Convert.FromBase64String(input.Base64);
            }
            catch (FormatException)
            {
                throw new OperationException($"{where}.base64 is not valid base64.");
            }
        }
        return new PackageSourceSpec(where)
        {
            Uri = input.Uri,
            Content = content,
            LogicalKey = input.LogicalKey,
            Metadata = metadata,
            NullMetadata = PackageSourceResolver.IsNull(input.Metadata),
        };
    }

    /// <summary>The MCP tools' items, each named <c>argument[i]</c>.</summary>
    public static IReadOnlyList<PackageSourceSpec> FromAll(IReadOnlyList<PackageSourceInput>? inputs, string argument) =>
        inputs is null ? [] : inputs.Select((input, i) => From(input, $"{argument}[{i}]")).ToList();
}
