// HelloBench http job: answer every request with "hello" on the port the corpus names.
const http = require('http');
http.createServer((req, res) => res.end('hello\n')).listen(18082, '127.0.0.1');
