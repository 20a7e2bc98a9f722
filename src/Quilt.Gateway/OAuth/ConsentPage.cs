using System.Net;
using System.Text;

namespace Quilt.Gateway.OAuth;

/// <summary>
/// The consent page, rendered on the server: which client asks, for which resource and scopes, where the user goes back
/// to, and a form where they sign in with their Quilt token. Every value is HTML-encoded; the page carries its CSRF
/// token in a hidden field that must match the cookie set with it.
/// </summary>
internal static class ConsentPage
{
    private static readonly Dictionary<string, string> ScopeText = new(StringComparer.Ordinal)
    {
        [OAuthServer.ReadScope] = "read buckets, objects, packages and tables you may read",
        [OAuthServer.WriteScope] = "change data: upload, copy and delete objects, create and change packages, where your role may write",
    };

    public static string Render(AuthorizationRequest request, string csrf, string? error)
    {
        static string E(string? text) => WebUtility.HtmlEncode(text ?? "");
        var client = request.Client.ClientName is { Length: > 0 } name ? name : request.Client.ClientId;
        var back = Uri.TryCreate(request.RedirectUri, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority) : request.RedirectUri;
        var html = new StringBuilder();
        html.Append("""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Allow access to your Quilt data</title>
            <style>
            body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
            textarea{width:100%;height:6rem;font-family:monospace}
            .error{color:#a00;border:1px solid #a00;padding:.5rem}
            button{font-size:1rem;padding:.4rem 1.2rem;margin-right:.5rem}
            code{background:#f3f3f3;padding:0 .2rem}
            </style></head><body><main>
            """);
        html.Append("<h1>Allow <strong id=\"client\">").Append(E(client)).Append("</strong> to use your Quilt data?</h1>");
        html.Append("<p>It will act as you at <code id=\"resource\">").Append(E(request.Resource)).Append("</code>, and may:</p><ul id=\"scopes\">");
        foreach (var scope in request.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            html.Append("<li><code>").Append(E(scope)).Append("</code>: ").Append(E(ScopeText.GetValueOrDefault(scope))).Append("</li>");
        html.Append("</ul><p>Afterwards you go back to <code id=\"redirect\">").Append(E(back)).Append("</code>.</p>");
        if (error is not null)
            html.Append("<p class=\"error\" id=\"error\" role=\"alert\">").Append(E(error)).Append("</p>");
        html.Append("<form method=\"post\" action=\"authorize\">");
        void Hidden(string field, string? value)
        {
            if (value is not null)
                html.Append("<input type=\"hidden\" name=\"").Append(field).Append("\" value=\"").Append(E(value)).Append("\">");
        }
        Hidden("csrf", csrf);
        Hidden("response_type", "code");
        Hidden("client_id", request.Client.ClientId);
        Hidden("redirect_uri", request.RedirectUri);
        Hidden("code_challenge", request.CodeChallenge);
        Hidden("code_challenge_method", "S256");
        Hidden("resource", request.Resource);
        Hidden("scope", request.Scope);
        Hidden("state", request.State);
        html.Append("""
            <p><label for="quilt_token">Sign in with your Quilt token</label></p>
            <textarea id="quilt_token" name="quilt_token" autocomplete="off" spellcheck="false" required></textarea>
            <p>The token you use with Quilt (the catalog's or quilt3's). It is checked here and not kept; the app gets a token of its own.</p>
            <button type="submit" name="decision" value="allow" id="allow">Allow</button>
            <button type="submit" name="decision" value="deny" id="deny" formnovalidate>Deny</button>
            </form></main></body></html>
            """);
        return html.ToString();
    }

    /// <summary>A page for a request that cannot go back to the client (unknown client or redirect URI).</summary>
    public static string Error(string message) =>
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Authorization failed</title></head><body><main>"
        + "<h1>This authorization request cannot be served</h1><p id=\"error\">" + WebUtility.HtmlEncode(message) + "</p>"
        + "<p>Start again from the app that sent you here.</p></main></body></html>";
}
