module.exports = {output: 'standalone'}
