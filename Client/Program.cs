using Prh.Client.Commands;

return PrhCommand.Build().Parse(args).Invoke();
