import simulacra

corpus = simulacra.Corpus.builtin()                      # 6 personas written for this project
train, heldout = corpus.split(0.2, seed=1)
pile = simulacra.Mixture.fit(train, order=5)             # fixed-share switching, alpha fitted
print(f"held-out attribution: {pile.attribution_accuracy(heldout):.1%}")
tr = pile.trace("Certainly! Here are a few steps. Mwahaha, FOOLS! At last, my scheme...")
print(dict(zip(pile.personas, tr.weights[-1].round(3))))  # weights before the last byte
print(pile.generate("Arr, ", max_tokens=80, seed=7, clamp="pirate").text)
pile.save("pile.safetensors")
