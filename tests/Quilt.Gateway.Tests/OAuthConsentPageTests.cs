using System.Net;
using System.Web;
using Microsoft.Playwright;

namespace Quilt.Gateway.Tests;

/// <summary>
/// The consent page in a real browser: headless Chromium from the Debian package (QUILT_TEST_CHROMIUM, default
/// /usr/bin/chromium), driven by Playwright. A missing browser fails the test with what to install: it never skips.
/// </summary>
public sealed class OAuthConsentPageTests(GatewayFixture gateway)
{
    private static string ChromiumPath => Environment.GetEnvironmentVariable("QUILT_TEST_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        Assert.True(File.Exists(ChromiumPath),
            $"No Chromium at {ChromiumPath}: install the Debian package (sudo apt-get install -y chromium; scripts/test.sh does), or set QUILT_TEST_CHROMIUM.");
        var playwright = await Playwright.CreateAsync();
        // As root (CI containers) Chromium's sandbox cannot start.
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true, Args = ["--no-sandbox"] });
        return (playwright, browser);
    }

    [Fact]
    public async Task A_user_signs_in_on_the_consent_page_and_the_client_gets_a_code_it_redeems()
    {
        await using var instance = await GatewayInstance.StartAsync(gateway, o => o.OAuth.Enabled = true);
        using var driver = new OAuthDriver(instance.BaseUrl);
        var clientId = await driver.RegisterClientAsync();
        var (playwright, browser) = await LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await browser.NewPageAsync();
        // The client's redirect URI: caught here, as the client's own listener would.
        var redirected = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync(OAuthDriver.RedirectUri + "**", async route =>
        {
            redirected.TrySetResult(route.Request.Url);
            await route.FulfillAsync(new RouteFulfillOptions { Status = 200, ContentType = "text/plain", Body = "You can close this window." });
        });

        var response = await page.GotoAsync(new Uri(instance.BaseUrl, driver.AuthorizeQuery(clientId, scope: "quilt.read")).ToString());
        Assert.Equal((int)HttpStatusCode.OK, response!.Status);
        Assert.Equal("Test client", await page.Locator("#client").TextContentAsync());
        Assert.Equal(OAuthDriver.Resource, await page.Locator("#resource").TextContentAsync());
        Assert.Contains("quilt.read", await page.Locator("#scopes").TextContentAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("quilt.write", await page.Locator("#scopes").TextContentAsync(), StringComparison.Ordinal);

        // A token the gateway does not accept: the page says why and no code is issued.
        await page.FillAsync("#quilt_token", gateway.Tokens.Expired(GatewayFixture.NewSubject("browser"), "reader"));
        await page.ClickAsync("#allow");
        Assert.Contains("expired", await page.Locator("#error").TextContentAsync(), StringComparison.Ordinal);
        Assert.False(redirected.Task.IsCompleted);

        var subject = GatewayFixture.NewSubject("browser");
        await page.FillAsync("#quilt_token", gateway.Tokens.Hs256(subject, "reader"));
        await page.ClickAsync("#allow");
        var location = new Uri(await redirected.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken));
        var query = HttpUtility.ParseQueryString(location.Query);
        Assert.Equal("st-123", query["state"]);
        var (status, body) = await driver.RedeemAsync(clientId, query["code"]!);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("quilt.read", body["scope"]!.GetValue<string>());
    }

    [Fact]
    public async Task Deny_sends_the_user_back_with_access_denied()
    {
        await using var instance = await GatewayInstance.StartAsync(gateway, o => o.OAuth.Enabled = true);
        using var driver = new OAuthDriver(instance.BaseUrl);
        var clientId = await driver.RegisterClientAsync();
        var (playwright, browser) = await LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await browser.NewPageAsync();
        var redirected = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync(OAuthDriver.RedirectUri + "**", async route =>
        {
            redirected.TrySetResult(route.Request.Url);
            await route.FulfillAsync(new RouteFulfillOptions { Status = 200, Body = "back" });
        });
        await page.GotoAsync(new Uri(instance.BaseUrl, driver.AuthorizeQuery(clientId)).ToString());
        await page.ClickAsync("#deny");
        var location = new Uri(await redirected.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken));
        Assert.Equal("access_denied", HttpUtility.ParseQueryString(location.Query)["error"]);
        Assert.Null(HttpUtility.ParseQueryString(location.Query)["code"]);
    }
}
