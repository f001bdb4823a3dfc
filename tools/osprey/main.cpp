#include <cstdio>
int main() { std::puts("osprey"); return 0; }
