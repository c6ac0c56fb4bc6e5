"""The notebook: conversion with nbconvert, `%run`, the cell map, install lines, secrets in its text."""
