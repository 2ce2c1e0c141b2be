"""The HTTP command API: a transport that takes commands as HTTP requests (an API token names
the principal and its role) and answers each with its reply as JSON; no pushes."""
