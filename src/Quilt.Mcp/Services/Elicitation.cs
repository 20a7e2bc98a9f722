using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Hosting;
using Quilt.Operations.Models;

namespace Quilt.Mcp.Services;

/// <summary>
/// Asks the user (elicitation) before a destructive or expensive call: an overwrite, a delete, a large upload. Only when
/// the client supports form elicitation and the server can send it a request (stdio; never stateless HTTP): otherwise
/// the call goes ahead as it always did. Declined or cancelled, the call ends with a tool error and nothing done.
/// </summary>
public static class Elicitation
{
    /// <summary>Whether this call can ask the user.</summary>
    public static bool CanAsk(RequestContext<CallToolRequestParams>? context) =>
        context?.Server.ClientCapabilities?.Elicitation is { } elicitation
        && (elicitation.Form is not null || elicitation.Url is null)
        && !HonestCapabilities.StatelessHttp.In(context.Services);

    /// <summary>
    /// Asks <paramref name="question"/> (computed only when the client can be asked; null means nothing to confirm) and
    /// returns when the user accepts; throws a tool error saying nothing was done when they decline or cancel.
    /// </summary>
    public static async Task ConfirmAsync(RequestContext<CallToolRequestParams>? context, Func<Task<string?>> question, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(question);
        if (!CanAsk(context) || await question() is not { } text)
            return;
        var tool = context!.Params?.Name ?? "this tool";
        ElicitResult answer;
        try
        {
            answer = await context.Server.ElicitAsync(new ElicitRequestParams
            {
                Message = text,
                RequestedSchema = new ElicitRequestParams.RequestSchema
                {
                    Properties = new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition>
                    {
                        ["confirm"] = new ElicitRequestParams.BooleanSchema { Title = "Go ahead", Description = "Confirm to go ahead; decline to stop.", Default = true },
                    },
                },
            }, cancellationToken);
        }
        catch (McpException e) when (e is not McpProtocolException || !cancellationToken.IsCancellationRequested)
        {
            throw new McpException($"{tool} needed your confirmation, but the client could not ask ({e.Message}). Nothing was done.", e);
        }
        var confirmed = answer.IsAccepted
            && !(answer.Content?.TryGetValue("confirm", out var value) == true && value.ValueKind == System.Text.Json.JsonValueKind.False);
        if (!confirmed)
        {
            var how = answer.IsAccepted ? "not confirmed" : answer.Action == "decline" ? "declined" : "cancelled";
            throw new McpException($"{tool} was {how} by the user. Nothing was done.");
        }
    }

    /// <summary>Asks before an upload whose local files come to more than the server's threshold (QUILT_MCP_CONFIRM_UPLOAD_BYTES).</summary>
    public static Task ConfirmUploadAsync(RequestContext<CallToolRequestParams>? context, IEnumerable<PutObjectInput?>? objects, CancellationToken cancellationToken) =>
        ConfirmAsync(context, () =>
        {
            var threshold = context?.Services?.GetService<ServerSettings>()?.ConfirmUploadBytes ?? ServerSettings.DefaultConfirmUploadBytes;
            var files = (objects ?? []).Select(o => o?.LocalPath).OfType<string>().Where(Path.IsPathFullyQualified).Select(p => new FileInfo(p)).Where(f => f.Exists).ToList();
            var total = files.Sum(f => f.Length);
            return Task.FromResult(total > threshold
                ? $"Upload {files.Count:N0} local file(s), {total:N0} bytes in all (over {threshold:N0})? This can take long and cost transfer and storage."
                : null);
        }, cancellationToken);

    /// <summary>Asks before a write replaces objects that exist (a put or copy with overwrite, the default); <paramref name="existing"/> is looked up only when the client can be asked.</summary>
    public static Task ConfirmReplaceObjectsAsync(RequestContext<CallToolRequestParams>? context, bool overwrite, Func<Task<IReadOnlyList<string>>> existing,
        CancellationToken cancellationToken) =>
        ConfirmAsync(context, async () =>
        {
            ArgumentNullException.ThrowIfNull(existing);
            if (!overwrite || await existing() is not { Count: > 0 } uris)
                return null;
            const int named = 5;
            var list = string.Join(", ", uris.Take(named)) + (uris.Count > named ? $" and {uris.Count - named:N0} more" : "");
            return $"Replace {(uris.Count == 1 ? "the existing object" : $"{uris.Count:N0} existing objects")} {list}? "
                + "On a versioned bucket the older versions stay; otherwise the data they hold now is gone.";
        }, cancellationToken);

    /// <summary>Asks before a fetch replaces a file that exists (the destination, or the key's file name in a destination folder).</summary>
    public static Task ConfirmReplaceFileAsync(RequestContext<CallToolRequestParams>? context, string? destination, bool overwrite, string key,
        CancellationToken cancellationToken) =>
        ConfirmAsync(context, () =>
        {
            if (!overwrite || string.IsNullOrWhiteSpace(destination) || !Path.IsPathFullyQualified(destination))
                return Task.FromResult<string?>(null);
            var path = Directory.Exists(destination) ? Path.Join(destination, key[(key.LastIndexOf('/') + 1)..]) : destination;
            return Task.FromResult(File.Exists(path) ? $"Replace the existing file {Path.GetFullPath(path)}?" : null);
        }, cancellationToken);
}
