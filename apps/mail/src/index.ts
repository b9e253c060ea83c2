// What other workspaces may use of the mail app (the console's tests start it beside the console):
// the server factories. The app itself is src/main.ts.
export { createSmtpServer, type SmtpServerHandle, type SmtpServerOptions } from './smtp.ts';
export { createPop3Server, type Pop3Server, type Pop3ServerOptions } from './pop3/server.ts';
export { createMailAuth, dnsResolver, type MailAuth } from './mail-auth.ts';
