using Microsoft.Playwright;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Serve;

// Issue 7, items 1 and 4: the page driven in headless Chromium (Debian's chromium, which .ci/run installs).
public sealed class ServePageBrowserTests : IClassFixture<ServeApiTests.Server>
{
    const string Chromium = "/usr/bin/chromium";
    readonly ServeApiTests.Server _server;

    public ServePageBrowserTests(ServeApiTests.Server server) => _server = server;

    [Fact]
    public async Task Typing_a_query_shows_thumbnails_and_a_click_opens_the_full_image()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install chromium (.ci/run does).");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1200, Height = 900 } });
        await page.GotoAsync($"http://127.0.0.1:{_server.Port}/?token={ServeApiTests.Server.Token}");

        await page.FillAsync("#q", "a dog on the beach");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('.card img').length >= 10 && [...document.querySelectorAll('.card img')].slice(0, 10).every(i => i.complete && i.naturalWidth > 0)",
            null, new PageWaitForFunctionOptions { Timeout = 30_000 });
        Assert.Equal(17, await page.Locator(".card").CountAsync());
        Assert.Matches(@"17 indexed · 0 pending · 1 failed", await page.InnerTextAsync("#status"));

        await page.Locator(".card img").First.ClickAsync();
        await page.WaitForFunctionAsync("() => { const v = document.querySelector('#viewer'); const i = v.querySelector('img'); return v.style.display === 'flex' && i.complete && i.naturalWidth > 0; }",
            null, new PageWaitForFunctionOptions { Timeout = 30_000 });
        Assert.Contains("/api/image/", await page.GetAttributeAsync("#viewer img", "src"));

        string shots = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(shots);
        await page.ClickAsync("#viewer");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "serve-search.png"), FullPage = false });
        Assert.True(new FileInfo(Path.Combine(shots, "serve-search.png")).Length > 10_000);

        // "more like this" replaces the grid with neighbours of that image, itself left out.
        string firstPath = await page.Locator(".card .path").First.InnerTextAsync();
        await page.Locator(".card .more").First.ClickAsync();
        await page.WaitForFunctionAsync($"() => document.querySelectorAll('.card').length === 16");
        Assert.DoesNotContain(firstPath, await page.Locator(".card .path").AllInnerTextsAsync());

        // Issue 14, item 4: a search can be linked: the page reads ?q= and searches at once, and
        // typing a query puts it in the address.
        var linked = await browser.NewPageAsync();
        await linked.GotoAsync($"http://127.0.0.1:{_server.Port}/?q=a%20red%20car&token={ServeApiTests.Server.Token}");
        await linked.WaitForFunctionAsync("() => document.querySelectorAll('.card').length === 17", null, new PageWaitForFunctionOptions { Timeout = 30_000 });
        Assert.Equal("a red car", await linked.InputValueAsync("#q"));
        await linked.FillAsync("#q", "snow");
        await linked.WaitForFunctionAsync("() => new URL(location.href).searchParams.get('q') === 'snow'", null, new PageWaitForFunctionOptions { Timeout = 10_000 });
    }
}
