using Quilt.Gateway;

// quilt-gateway [serve] [--config FILE] [--Section:Key=value ...]   run the service
// quilt-gateway check   [--config FILE] [...]                      validate the configuration and exit
// quilt-gateway audit   [--config FILE] [--since T] [--until T] [--subject S] [--action A] [--limit N] [--json]
return await GatewayCli.RunAsync(args, Console.Out, Console.Error);
