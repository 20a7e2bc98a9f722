using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Quilt.Operations.Previews;

/// <summary>Indents JSON for reading, including a cut prefix of a large document (as far as it goes).</summary>
internal static class JsonPreview
{
    /// <summary>
    /// Re-indents <paramref name="utf8"/>; <paramref name="isFinal"/> false means the data is a prefix of the document.
    /// Returns null when the data is not JSON. Output stops near <paramref name="maxOutputBytes"/>.
    /// </summary>
    public static (string Text, bool Complete, string Summary)? Format(ReadOnlySpan<byte> utf8, bool isFinal, int maxOutputBytes)
    {
        var output = new ArrayBufferWriter<byte>(Math.Min(maxOutputBytes + 1024, utf8.Length * 2 + 64));
        var reader = new Utf8JsonReader(utf8, isFinal, new JsonReaderState(new JsonReaderOptions
        {
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
            MaxDepth = 512,
        }));
        var complete = false;
        string? summary = null;
        var rootItems = 0;
        var rootKeys = new List<string>();
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions
        {
            Indented = true,
            SkipValidation = true,
            MaxDepth = 512,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            try
            {
                while (writer.BytesCommitted + writer.BytesPending < maxOutputBytes && reader.Read())
                {
                    // Counting what sits directly under the root gives the summary ("object with keys ...").
                    if (reader.CurrentDepth == 1)
                    {
                        if (reader.TokenType == JsonTokenType.PropertyName && rootKeys.Count < 30)
                            rootKeys.Add(reader.GetString()!);
                        else if (reader.TokenType is not (JsonTokenType.PropertyName or JsonTokenType.EndArray or JsonTokenType.EndObject))
                            rootItems++;
                    }
                    switch (reader.TokenType)
                    {
                        case JsonTokenType.StartObject:
                            writer.WriteStartObject();
                            break;
                        case JsonTokenType.EndObject:
                            writer.WriteEndObject();
                            break;
                        case JsonTokenType.StartArray:
                            writer.WriteStartArray();
                            break;
                        case JsonTokenType.EndArray:
                            writer.WriteEndArray();
                            break;
                        case JsonTokenType.PropertyName:
                            writer.WritePropertyName(reader.GetString()!);
                            break;
                        case JsonTokenType.String:
                            writer.WriteStringValue(reader.GetString());
                            break;
                        case JsonTokenType.Number:
                            writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                            break;
                        case JsonTokenType.True:
                            writer.WriteBooleanValue(true);
                            break;
                        case JsonTokenType.False:
                            writer.WriteBooleanValue(false);
                            break;
                        case JsonTokenType.Null:
                            writer.WriteNullValue();
                            break;
                    }
                    if (reader.CurrentDepth == 0 && reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray
                        or JsonTokenType.String or JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null)
                    {
                        complete = true;
                        break;
                    }
                }
            }
            catch (JsonException)
            {
                return null;
            }
            writer.Flush();
        }
        if (output.WrittenCount == 0 && !complete)
            return null;

        var text = Encoding.UTF8.GetString(output.WrittenSpan);
        var first = utf8.TrimStart(" \t\r\n\uFEFF"u8.ToArray());
        var rootKind = first.IsEmpty ? "" : first[0] switch
        {
            (byte)'{' => "object",
            (byte)'[' => "array",
            _ => "value",
        };
        summary = rootKind switch
        {
            "object" when complete => $"a JSON object with {rootKeys.Count}{(rootKeys.Count == 30 ? "+" : "")} keys: {string.Join(", ", rootKeys)}",
            "object" => $"a JSON object; keys seen so far: {string.Join(", ", rootKeys)}",
            "array" when complete => $"a JSON array of {rootItems} items",
            "array" => $"a JSON array; {rootItems} items seen so far",
            _ => "a JSON value",
        };
        return (text, complete, summary);
    }
}
