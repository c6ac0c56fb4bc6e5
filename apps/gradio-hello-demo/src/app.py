#!/usr/bin/env python
# coding: utf-8
from n2a_ipython import get_ipython  # n2a: IPython's stand-in outside a kernel

# In[1]:


get_ipython().system('pip install -q gradio')


#  Gradio hello
# Type a name, get a greeting.

# In[2]:


import gradio as gr

def greet(name):
    return f"Hello, {name}!"


# In[3]:


with gr.Blocks(title="Gradio Hello") as demo:
    gr.Markdown("# Hello from Gradio")
    name = gr.Textbox(label="Your name")
    greeting = gr.Textbox(label="Greeting")
    name.submit(greet, name, greeting)


# In[4]:


if __name__ == "__main__":
    demo.launch()
