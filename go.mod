module github.com/hsmwatch/hsmwatch

go 1.26.8
