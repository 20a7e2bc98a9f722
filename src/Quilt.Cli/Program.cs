using Quilt.Cli;

return await CliApp.RunAsync(args);
