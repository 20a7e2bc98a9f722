using Quilt.Gateway;

// quilt-gateway [serve] [--config FILE] [--Section:Key=value ...]   run the service
// quilt-gateway check   [--config FILE] [...]                      validate the configuration and exit
// quilt-gateway audit   [--config FILE] [--since T] [--until T] [--subject S] [--action A] [--limit N] [--json]
// quilt-gateway check --probe, token --user U [--role R], health [--url U]   deployment commands (docs/gateway.md, Deploying)
return await GatewayCli.RunAsync(args, Console.Out, Console.Error);
